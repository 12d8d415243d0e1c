"""Shared shape of the commands that add addresses to a list (members, allowed senders)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError

from tidings.lib.commands import (
    TidingsCommand,
    add_json_flag,
    as_command_error,
    get_or_error,
    output,
)
from tidings.lists.models import MailingList


class ListAddressesCommand(TidingsCommand):
    add: Callable[[MailingList, str], Any]
    done = "{address} was added to {list}."
    key = "addresses"

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("list", help="list name")
        parser.add_argument("emails", nargs="+", metavar="EMAIL")
        add_json_flag(parser)

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        mailing_list = get_or_error(MailingList, "list", name=options["list"])
        added = []
        for email in options["emails"]:
            try:
                added.append(type(self).add(mailing_list, email).address)
            except ValidationError as exc:
                raise as_command_error(exc) from None
        text = "\n".join(self.done.format(address=a, list=mailing_list.address) for a in added)
        output(self, options, {"list": mailing_list.name, self.key: added}, text)
