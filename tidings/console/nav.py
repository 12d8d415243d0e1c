"""The console's navigation, read from each app's AppConfig.

An app lists its staff pages as `console_pages = [("Subscribers", "subscribers_console:list",
"viewer", 20), …]` (label, URL name, least role, order) on its AppConfig; each URL takes the
account code as its only argument. The console reads them, so no app imports the console, and
shows each user the entries their role in the account allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.apps import apps
from django.urls import NoReverseMatch, reverse

from tidings.accounts.models import Membership


@dataclass(frozen=True)
class Entry:
    label: str
    url_name: str
    role: str
    order: int


@cache
def entries() -> list[Entry]:
    found = [
        Entry(label, url_name, role, order)
        for config in apps.get_app_configs()
        for label, url_name, role, order in getattr(config, "console_pages", ())
    ]
    return sorted(found, key=lambda e: (e.order, e.label))


def entries_for(membership: Membership) -> list[tuple[str, str]]:
    """(label, url) for each page the membership may open, in menu order."""
    links = []
    for entry in entries():
        if not membership.has_role(entry.role):
            continue
        try:
            links.append((entry.label, reverse(entry.url_name, args=[membership.account.code])))
        except NoReverseMatch:
            continue
    return links
