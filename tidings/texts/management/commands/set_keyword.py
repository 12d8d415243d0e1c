from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from tidings.accounts.models import Account
from tidings.lib.commands import TidingsCommand, as_command_error, get_or_error
from tidings.texts.actions import set_keyword
from tidings.topics.models import Topic


class Command(TidingsCommand):
    help = "Set the word that, texted to the account's number, subscribes to a topic."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("topic", metavar="TOPIC", help="topic code")
        parser.add_argument("word", metavar="WORD", help="the keyword ('' removes it)")
        parser.add_argument("--account", required=True, help="account code")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        account = get_or_error(Account, "account", code=options["account"])
        topic = get_or_error(Topic, "topic", account=account, code=options["topic"])
        try:
            keyword = set_keyword(topic, options["word"])
        except ValidationError as exc:
            raise CommandError(as_command_error(exc)) from None
        if keyword is None:
            self.stdout.write(f"{topic.name} has no keyword now.")
        else:
            self.stdout.write(f"Texting {keyword.word} subscribes to {topic.name}.")
