"""The console's navigation, read from each app's AppConfig.

An app lists its staff pages as `console_pages = [("Subscribers", "subscribers_console:list",
"viewer", 20), …]` (label, URL name, least role, order) on its AppConfig; each URL takes the
account code as its only argument. The console reads them, so no app imports the console, and
shows each user the entries their role in the account allows, grouped by task: the order's
range names the group (GROUPS).
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


# (the first order of the group, its name): 10 to 19 Publish, 20 to 29 Audience, and so on.
GROUPS = [
    (10, "Publish"),
    (20, "Audience"),
    (30, "Lists"),
    (40, "Automation"),
    (60, "Insights"),
    (80, "Settings"),
]


def group_of(order: int) -> str:
    name = GROUPS[0][1]
    for start, group in GROUPS:
        if order >= start:
            name = group
    return name


@cache
def entries() -> list[Entry]:
    found = [
        Entry(label, url_name, role, order)
        for config in apps.get_app_configs()
        for label, url_name, role, order in getattr(config, "console_pages", ())
    ]
    return sorted(found, key=lambda e: (e.order, e.label))


def entries_for(membership: Membership) -> list[tuple[str, list[tuple[str, str]]]]:
    """(group, [(label, url)…]) for the pages the membership may open, in menu order."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for entry in entries():
        if not membership.has_role(entry.role):
            continue
        try:
            url = reverse(entry.url_name, args=[membership.account.code])
        except NoReverseMatch:
            continue
        groups.setdefault(group_of(entry.order), []).append((entry.label, url))
    return list(groups.items())
