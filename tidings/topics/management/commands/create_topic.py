from django.core.exceptions import ValidationError

from tidings.accounts.models import Account
from tidings.lib.commands import (
    TidingsCommand,
    add_json_flag,
    as_command_error,
    get_or_error,
    output,
)
from tidings.topics.actions import create_topic


class Command(TidingsCommand):
    help = "Create a topic in an account."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--account", required=True, help="account code")
        parser.add_argument("--name", required=True, help='e.g. "Press Releases"')
        parser.add_argument("--code", default="", help="topic code (default ACCOUNT_n)")
        parser.add_argument("--description", default="")
        parser.add_argument("--unlisted", action="store_true", help="Hide from the subscribe page.")
        add_json_flag(parser)

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        account = get_or_error(Account, "account", code=options["account"])
        try:
            topic = create_topic(
                account,
                name=options["name"],
                code=options["code"],
                description=options["description"],
                listed=not options["unlisted"],
            )
        except ValidationError as exc:
            raise as_command_error(exc) from None
        data = {"id": topic.pk, "code": topic.code, "name": topic.name, "account": account.code}
        output(self, options, data, f"Created topic {topic.code} ({topic.name}).")
