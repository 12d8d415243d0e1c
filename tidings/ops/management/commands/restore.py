from pathlib import Path

from django.core.management.base import CommandError

from tidings.lib.commands import TidingsCommand, add_json_flag, output
from tidings.ops.backup import BackupError, restore


class Command(TidingsCommand):
    help = "Put a backup back: the database and the keys (stop Tidings first)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("source", help="a folder made by `tidings backup`")
        parser.add_argument(
            "--force", action="store_true", help="replace the database this installation has"
        )
        add_json_flag(parser)

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        try:
            manifest = restore(Path(options["source"]), force=options["force"])
        except BackupError as error:
            raise CommandError(str(error)) from None
        text = f"Restored the backup made {manifest['made']}. Run `tidings migrate`, then start."
        output(self, options, manifest, text)
