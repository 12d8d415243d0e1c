from tidings.accounts.models import Account
from tidings.lib.commands import TidingsCommand, add_json_flag, get_or_error, output
from tidings.subscribers import actions, network


class Command(TidingsCommand):
    help = "Show (or --join, --leave) an account's place in the network of recommended topics."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--account", required=True, help="account code")
        change = parser.add_mutually_exclusive_group()
        change.add_argument("--join", action="store_true", help="Recommend and be recommended.")
        change.add_argument("--leave", action="store_true", help="Leave the network.")
        add_json_flag(parser)

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        account = get_or_error(Account, "account", code=options["account"])
        if options["join"] or options["leave"]:
            actions.set_network(account, bool(options["join"]))
        member = actions.settings_for(account).network
        counts = network.counts(account)
        text = (
            f"{account.code} is {'in' if member else 'not in'} the network. "
            f"Came through it: {counts['came']} (waiting for confirmation: {counts['waiting']}); "
            f"sent to other accounts: {counts['sent']}."
        )
        output(self, options, {"member": member, **counts}, text)
