"""One way to show a moment on staff pages: `{{ value|when }}`, e.g. "Dec 3, 2026, 10:15 AM EST".

In the time zone active for the request (an account's pages activate the account's: see
accounts.access.account_view; operators' pages show UTC), with the zone named. A template
builtin (settings.TEMPLATES), so no page has to load it.
"""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format

register = template.Library()

FORMAT = "M j, Y, g:i A T"


@register.filter
def when(value: datetime | None) -> str:
    if not value:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_format(value, FORMAT)
