import sys

from tidings.lib.commands import TidingsCommand, add_json_flag, output
from tidings.ops.doctor import warnings


class Command(TidingsCommand):
    help = "Warn about settings that are unsafe in production (exit 1 when there are any)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        add_json_flag(parser)

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        found = warnings()
        text = "\n".join(f"warning: {w}" for w in found) or "No unsafe setting found."
        output(self, options, {"warnings": found}, text)
        if found:
            sys.exit(1)
