from django.core.exceptions import ValidationError

from tidings.accounts.models import Account
from tidings.lib.commands import (
    TidingsCommand,
    add_json_flag,
    as_command_error,
    get_or_error,
    output,
)
from tidings.lists.actions import create_list
from tidings.lists.models import MailingList


class Command(TidingsCommand):
    help = "Create a mailing list at NAME@<lists domain>."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("name", help="e.g. wanabidii")
        parser.add_argument("--account", default="", help="owning account code")
        parser.add_argument("--display-name", default="")
        parser.add_argument("--description", default="")
        parser.add_argument("--subject-tag", default=None, help="default [NAME]; '' for none")
        parser.add_argument("--footer", default="", help="appended to every relayed message")
        parser.add_argument(
            "--comments",
            choices=[mode for mode, _ in MailingList.COMMENT_MODES],
            default=MailingList.OPEN,
            help="open, held (all held for review) or first (first-time commenters held)",
        )
        parser.add_argument(
            "--posting",
            choices=[policy for policy, _ in MailingList.POSTING_POLICIES],
            default=MailingList.ANNOUNCE,
            help="members, moderated, announce (only allowed senders; the default) or open",
        )
        parser.add_argument("--time-zone", default="UTC", help="for the archive's date headings")
        add_json_flag(parser)

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        account = None
        if options["account"]:
            account = get_or_error(Account, "account", code=options["account"])
        try:
            mailing_list = create_list(
                options["name"],
                account=account,
                display_name=options["display_name"],
                description=options["description"],
                subject_tag=options["subject_tag"],
                footer=options["footer"],
                comment_moderation=options["comments"],
                time_zone=options["time_zone"],
                posting_policy=options["posting"],
            )
        except ValidationError as exc:
            raise as_command_error(exc) from None
        data = {"id": mailing_list.pk, "name": mailing_list.name, "address": mailing_list.address}
        output(self, options, data, f"Created list {mailing_list.address}.")
