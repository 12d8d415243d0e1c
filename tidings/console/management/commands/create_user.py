from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import CommandError, CommandParser
from django.db import transaction

from tidings.accounts.models import Account, Membership
from tidings.lib.commands import TidingsCommand


class Command(TidingsCommand):
    help = "Create a console user (or update one) and give them a role in an account."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--account", required=True, help="Account code, e.g. USSTATEBPA.")
        parser.add_argument(
            "--role", default=Membership.AUTHOR, choices=[r for r, _ in Membership.ROLES]
        )
        parser.add_argument("--email", default="")
        parser.add_argument("--password", help="Set this password (else the user has none yet).")

    def handle(self, *args: Any, **options: Any) -> None:
        account = Account.objects.filter(code=options["account"]).first()
        if account is None:
            raise CommandError(f"No account {options['account']!r}.")
        with transaction.atomic():
            user, created = User.objects.get_or_create(
                username=options["username"], defaults={"email": options["email"]}
            )
            if options["password"]:
                user.set_password(options["password"])
                user.save()
            Membership.objects.update_or_create(
                user=user, account=account, defaults={"role": options["role"]}
            )
        verb = "Created" if created else "Updated"
        self.stdout.write(f"{verb} {user.username}: {options['role']} of {account.code}.")
