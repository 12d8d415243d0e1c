from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand

from tidings.lib.commands import add_json_flag, as_command_error, get_or_error, output
from tidings.lists.actions import allow_sender
from tidings.lists.models import MailingList


class Command(BaseCommand):
    help = "Put senders on a list's accept-list: their posts are relayed without moderation."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("list", help="list name")
        parser.add_argument("emails", nargs="+", metavar="EMAIL")
        add_json_flag(parser)

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        mailing_list = get_or_error(MailingList, "list", name=options["list"])
        allowed = []
        for email in options["emails"]:
            try:
                allowed.append(allow_sender(mailing_list, email).address)
            except ValidationError as exc:
                raise as_command_error(exc) from None
        text = "\n".join(f"{a} may post to {mailing_list.address}." for a in allowed)
        output(self, options, {"list": mailing_list.name, "accept": allowed}, text)
