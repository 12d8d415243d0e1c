from pathlib import Path

from django.core.management.base import CommandError

from tidings.lib.commands import TidingsCommand, add_json_flag, output
from tidings.ops.backup import BackupError, backup


class Command(TidingsCommand):
    help = "Copy the database (consistently, while Tidings runs) and the data dir's keys."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("destination", help="a new folder for the backup")
        add_json_flag(parser)

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        try:
            manifest = backup(Path(options["destination"]))
        except BackupError as error:
            raise CommandError(str(error)) from None
        files = ", ".join(str(f) for f in manifest["files"])  # type: ignore[attr-defined]
        output(self, options, manifest, f"Backed up to {options['destination']}: {files}.")
