from django.core.exceptions import ValidationError

from tidings.accounts.actions import create_account
from tidings.lib.commands import TidingsCommand, add_json_flag, as_command_error, output


class Command(TidingsCommand):
    help = "Create an account (an organization that publishes)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--code", required=True, help="e.g. USSTATEBPA")
        parser.add_argument("--name", required=True, help='e.g. "U.S. Department of State"')
        parser.add_argument("--sender-address", required=True, help="From address of bulletins")
        parser.add_argument("--sender-name", default="", help="From name (default: the name)")
        parser.add_argument("--postal-address", default="", help="Shown in every footer")
        parser.add_argument("--time-zone", default="UTC", help="e.g. America/New_York")
        parser.add_argument(
            "--language", default="en", help="Of its public pages and mail: en, es or sw"
        )
        add_json_flag(parser)

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        try:
            account = create_account(
                code=options["code"],
                name=options["name"],
                sender_address=options["sender_address"],
                sender_name=options["sender_name"],
                postal_address=options["postal_address"],
                time_zone=options["time_zone"],
                language=options["language"],
            )
        except ValidationError as exc:
            raise as_command_error(exc) from None
        data = {"id": account.pk, "code": account.code, "name": account.name}
        output(self, options, data, f"Created account {account.code} ({account.name}).")
