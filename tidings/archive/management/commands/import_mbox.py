from pathlib import Path

from django.core.management.base import CommandError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from tidings.archive.importer import import_mbox
from tidings.lib.commands import TidingsCommand, add_json_flag, get_or_error, output
from tidings.lists.models import MailingList


class Command(TidingsCommand):
    help = "Import an mbox file into a list's archive; messages already there are skipped."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("file", help="an mbox file")
        parser.add_argument("--list", required=True, dest="list_name", help="the list's name")
        parser.add_argument("--batch", type=int, default=500, help="messages per transaction")
        add_json_flag(parser)

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        mailing_list = get_or_error(MailingList, "list", name=options["list_name"])
        with Progress(
            TextColumn("Importing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            disable=options["json"],
            transient=True,
        ) as bar:
            task = bar.add_task("import", total=None)

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            result = import_mbox(mailing_list, path, progress=advance, batch=options["batch"])
        data = {
            "list": mailing_list.name,
            "messages": result.messages,
            "imported": result.imported,
            "repaired": result.repaired,
            "duplicates": result.duplicates,
            "failed": result.failed,
            "seconds": round(result.seconds, 2),
        }
        text = (
            f"Read {result.messages} messages in {result.seconds:.1f} s: {result.imported} "
            f"imported ({len(result.repaired)} of them repaired), {result.duplicates} already "
            f"archived, {len(result.failed)} not imported."
        )
        output(self, options, data, text)
        for line in result.repaired:
            self.stderr.write(f"repaired: {line}")
        for line in result.failed:
            self.stderr.write(f"not imported: {line}")
