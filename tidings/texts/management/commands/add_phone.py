from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.db import transaction

from tidings.accounts.models import Account
from tidings.lib.commands import (
    TidingsCommand,
    add_json_flag,
    as_command_error,
    get_or_error,
    output,
)
from tidings.texts.actions import subscribe_number
from tidings.texts.models import Phone
from tidings.topics.models import Topic


class Command(TidingsCommand):
    help = "Give mobile numbers text messages of topics (confirmed: the operator vouches)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("numbers", nargs="+", metavar="NUMBER")
        parser.add_argument("--account", required=True, help="account code")
        parser.add_argument(
            "--topic", required=True, action="append", help="topic code (repeatable)"
        )
        parser.add_argument(
            "--ask", action="store_true", help="Text them first: they must answer YES."
        )
        add_json_flag(parser)

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        account = get_or_error(Account, "account", code=options["account"])
        topics = [get_or_error(Topic, "topic", account=account, code=c) for c in options["topic"]]
        source = Phone.WEB if options["ask"] else Phone.CONSOLE
        done = []
        with transaction.atomic():
            for number in options["numbers"]:
                try:
                    phone = subscribe_number(account, number, topics, source=source)
                except ValidationError as exc:
                    raise CommandError(
                        f"{as_command_error(exc)} Nobody was added; fix or drop it and run the "
                        "command again."
                    ) from None
                done.append({"id": phone.pk, "number": phone.number, "status": phone.status})
        text = "\n".join(f"{d['number']}: {d['status']}." for d in done)
        output(self, options, {"phones": done}, text)
