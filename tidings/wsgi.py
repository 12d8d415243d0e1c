"""The WSGI application the web server runs: Django, behind a front that answers the requests
that come by the million without building a Django request: the open image and click redirects
of a large send (counted in batches, tracking.hits) and public pages already rendered
(lib.pagecache)."""

import os
from collections.abc import Callable, Iterable
from typing import Any

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tidings.settings")
django_application = get_wsgi_application()

from tidings.lib import pagecache  # noqa: E402 - needs the settings configured above
from tidings.tracking import hits  # noqa: E402

hits.start_background()

NO_CACHE = [
    ("Cache-Control", "max-age=0, no-cache, no-store, must-revalidate, private"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Content-Type-Options", "nosniff"),
]


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/t/o/") and path.endswith(".gif") and "/" not in path[5:]:
            hits.count_open(path[5:-4])
            start_response("200 OK", [("Content-Type", "image/gif"), *NO_CACHE])
            return [hits.GIF]
        if path.startswith("/t/c/"):
            token, _, link = path[5:].rstrip("/").partition("/")
            if (
                link.isdigit()
                and path.endswith("/")
                and (target := hits.count_click(token, int(link)))
            ):
                start_response(
                    "302 Found", [("Location", target), ("Content-Length", "0"), *NO_CACHE]
                )
                return [b""]
        elif (page := pagecache.serve(environ, start_response)) is not None:
            return page
    return django_application(environ, start_response)  # type: ignore[no-any-return]
