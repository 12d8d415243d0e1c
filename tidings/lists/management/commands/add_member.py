from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand

from tidings.lib.commands import add_json_flag, as_command_error, get_or_error, output
from tidings.lists.actions import add_member
from tidings.lists.models import MailingList


class Command(BaseCommand):
    help = "Add members to a list."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("list", help="list name")
        parser.add_argument("emails", nargs="+", metavar="EMAIL")
        add_json_flag(parser)

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        mailing_list = get_or_error(MailingList, "list", name=options["list"])
        added = []
        for email in options["emails"]:
            try:
                added.append(add_member(mailing_list, email).address)
            except ValidationError as exc:
                raise as_command_error(exc) from None
        text = "\n".join(f"{a} is a member of {mailing_list.address}." for a in added)
        output(self, options, {"list": mailing_list.name, "members": added}, text)
