"""The console's navigation, filled by each app from its AppConfig.ready().

An app registers its pages with `register("Subscribers", "subscribers:console_list",
role=Membership.TOPIC_ADMIN)`; the URL must take the account code as its only argument.
The console shows each user the entries their role in the account allows.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from tidings.accounts.models import Membership


@dataclass(frozen=True)
class Entry:
    label: str
    url_name: str
    role: str
    order: int


ENTRIES: dict[str, Entry] = {}


def register(label: str, url_name: str, *, role: str = Membership.VIEWER, order: int = 50) -> None:
    ENTRIES[url_name] = Entry(label, url_name, role, order)


def entries_for(membership: Membership) -> list[tuple[str, str]]:
    """(label, url) for each page the membership may open, in menu order."""
    links = []
    for entry in sorted(ENTRIES.values(), key=lambda e: (e.order, e.label)):
        if not membership.has_role(entry.role):
            continue
        try:
            links.append((entry.label, reverse(entry.url_name, args=[membership.account.code])))
        except NoReverseMatch:
            continue
    return links
