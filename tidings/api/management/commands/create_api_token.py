from django.core.exceptions import ValidationError

from tidings.accounts.models import Account, Membership
from tidings.api.actions import create_token
from tidings.lib.commands import (
    TidingsCommand,
    add_json_flag,
    as_command_error,
    get_or_error,
    output,
)


class Command(TidingsCommand):
    help = "Create an API token for an account and print its secret (shown this once only)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--account", required=True, help="Account code, e.g. USSTATEBPA")
        parser.add_argument("--role", default=Membership.VIEWER, choices=list(Membership.RANK))
        parser.add_argument("--name", required=True, help='What uses it, e.g. "website CMS"')
        add_json_flag(parser)

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        account = get_or_error(Account, "account", code=options["account"])
        try:
            token, secret = create_token(account, name=options["name"], role=options["role"])
        except ValidationError as exc:
            raise as_command_error(exc) from None
        data = {"id": token.pk, "name": token.name, "role": token.role, "secret": secret}
        if not options["json"]:
            self.stderr.write(
                f"Token {token.name} ({token.role}) for {account.code}; "
                "copy the secret now, it is not shown again:"
            )
        output(self, options, data, secret)
