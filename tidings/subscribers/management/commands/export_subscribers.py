from tidings.accounts.models import Account
from tidings.lib.commands import TidingsCommand, get_or_error
from tidings.subscribers.importer import export_subscribers
from tidings.topics.models import Topic


class Command(TidingsCommand):
    help = "Write an account's subscribers as CSV: email, status, delivery_mode, topics, created."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--account", required=True, help="account code")
        parser.add_argument("--topic", action="append", help="only these topics (repeatable)")
        parser.add_argument("-o", "--output", metavar="FILE.csv", help="default: standard output")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        account = get_or_error(Account, "account", code=options["account"])
        topics = [
            get_or_error(Topic, "topic", account=account, code=c) for c in options["topic"] or []
        ]
        if options["output"]:
            with open(options["output"], "w", newline="") as out:
                count = export_subscribers(account, out, topics=topics)
            self.stderr.write(f"Exported {count} subscribers to {options['output']}.")
        else:
            export_subscribers(account, self.stdout, topics=topics)  # type: ignore[arg-type]
