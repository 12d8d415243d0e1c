"""The WSGI application the web server runs: Django behind the front (ops.front), with open and
click hits written from a thread of each web process."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tidings.settings")
django_application = get_wsgi_application()

from tidings.ops.front import front  # noqa: E402 - needs the settings configured above
from tidings.tracking import hits  # noqa: E402

hits.start_background()
application = front(django_application)
