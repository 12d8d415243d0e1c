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
from tidings.subscribers.actions import set_language, subscribe
from tidings.topics.models import Topic


class Command(TidingsCommand):
    help = "Subscribe addresses to topics (confirmed: the operator vouches for them)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("emails", nargs="+", metavar="EMAIL")
        parser.add_argument("--account", required=True, help="account code")
        parser.add_argument(
            "--topic", required=True, action="append", help="topic code (repeatable)"
        )
        parser.add_argument("--pending", action="store_true", help="Leave them unconfirmed.")
        parser.add_argument(
            "--language", default="", help="Of their mail: en, es or sw (default: the account's)"
        )
        add_json_flag(parser)

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        account = get_or_error(Account, "account", code=options["account"])
        topics = [get_or_error(Topic, "topic", account=account, code=c) for c in options["topic"]]
        done = []
        # All or none: one bad address names itself and subscribes nobody of the batch.
        with transaction.atomic():
            for email in options["emails"]:
                try:
                    subscriber = subscribe(account, email, topics, confirmed=not options["pending"])
                    if options["language"]:
                        set_language(subscriber, options["language"])
                except ValidationError as exc:
                    error = as_command_error(exc)
                    raise CommandError(
                        f"{email!r}: {error}. Nobody was subscribed; fix or drop it and run "
                        "the command again."
                    ) from None
                done.append(
                    {"id": subscriber.pk, "email": subscriber.email, "status": subscriber.status}
                )
        text = "\n".join(f"Subscribed {d['email']} ({d['status']})." for d in done)
        output(self, options, {"subscribers": done}, text)
