"""Pages of a list's members, by key: the same cost at member 100,000 as at member 1."""

from __future__ import annotations

from django.db.models.functions import Lower

from tidings.lib.mail import normalize
from tidings.lists.models import MailingList, Member

MEMBERS_PER_PAGE = 50


def members_page(mailing_list: MailingList, query: str, after: str) -> tuple[list[Member], str]:
    """Return a page of members in address order after `after`, and the next page's key.

    Keyset pagination on the (list, address) unique index: no OFFSET and no COUNT, so a page
    costs the same at member 100,000 as at member 1.
    """
    rows = Member.objects.filter(mailing_list=mailing_list).order_by("address")
    if query:
        rows = rows.filter(address__icontains=query)
    if after:
        rows = rows.filter(address__gt=after)
    page = list(rows.only("address", "name", "delivery_mode", "created")[: MEMBERS_PER_PAGE + 1])
    more = len(page) > MEMBERS_PER_PAGE
    page = page[:MEMBERS_PER_PAGE]
    return page, page[-1].address if more else ""


def find_member(mailing_list: MailingList, address: str) -> Member | None:
    """Return the member with this address, whatever case either was written in."""
    return (
        Member.objects.filter(mailing_list=mailing_list)
        .annotate(lower=Lower("address"))
        .filter(lower=normalize(address).lower())
        .first()
    )
