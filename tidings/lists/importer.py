"""Add many addresses to a list at once (bulk import), or invite them, with per-line errors."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models.functions import Lower
from email_validator import EmailNotValidError, validate_email

from tidings.lists import membership
from tidings.lists.models import MailingList, Member

CHUNK = 500
HEADER_WORDS = {"email", "address", "e-mail", "email address"}


@dataclass
class ImportReport:
    added: int = 0
    invited: int = 0
    existing: int = 0
    duplicates: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)


def read_addresses(text: str, report: ImportReport) -> list[str]:
    """Return the valid, normalized addresses of a textarea or CSV, recording each bad line."""
    found: dict[str, str] = {}
    for number, row in enumerate(csv.reader(text.splitlines()), start=1):
        value = row[0].strip() if row else ""
        if not value or (number == 1 and value.lower() in HEADER_WORDS):
            continue
        try:
            address = validate_email(value, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            report.errors.append((number, value, str(exc)))
            continue
        if address.lower() in found:
            report.duplicates += 1
            continue
        found[address.lower()] = address
    return list(found.values())


def _existing(mailing_list: MailingList, addresses: list[str]) -> set[str]:
    lowered = [a.lower() for a in addresses]
    rows = (
        Member.objects.filter(mailing_list=mailing_list)
        .annotate(lower=Lower("address"))
        .filter(lower__in=lowered)
        .values_list("lower", flat=True)
    )
    return set(rows)


def import_members(
    mailing_list: MailingList,
    text: str,
    *,
    delivery_mode: str = Member.EACH,
    invite: bool = False,
    by: str = "",
) -> ImportReport:
    """Add (or invite) every valid address; members already on the list are counted, not touched."""
    report = ImportReport()
    addresses = read_addresses(text, report)
    for start in range(0, len(addresses), CHUNK):
        chunk = addresses[start : start + CHUNK]
        existing = _existing(mailing_list, chunk)
        fresh = [a for a in chunk if a.lower() not in existing]
        report.existing += len(chunk) - len(fresh)
        with transaction.atomic():
            if invite:
                for address in fresh:
                    if membership.invite(mailing_list, address, by=by) is not None:
                        report.invited += 1
            else:
                Member.objects.bulk_create(
                    [
                        Member(mailing_list=mailing_list, address=a, delivery_mode=delivery_mode)
                        for a in fresh
                    ],
                    ignore_conflicts=True,
                )
                report.added += len(fresh)
    return report
