import sys
from pathlib import Path

from django.core.management.base import CommandError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tidings.accounts.models import Account
from tidings.lib.commands import TidingsCommand, add_json_flag, get_or_error, output
from tidings.lib.spreadsheet import SafeWriter
from tidings.subscribers.importer import import_subscribers, read_rows
from tidings.topics.models import Topic


def count_lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 20), b""))


class Command(TidingsCommand):
    help = (
        "Subscribe the addresses in a CSV file (an 'email' column, or one address a line) to "
        "topics. Bad rows are reported with their line number; duplicates, suppressed and "
        "unsubscribed addresses are skipped."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("file", metavar="FILE.csv")
        parser.add_argument("--account", required=True, help="account code")
        parser.add_argument(
            "--topic", required=True, action="append", help="topic code (repeatable)"
        )
        mode = parser.add_mutually_exclusive_group(required=True)
        mode.add_argument(
            "--confirmed",
            action="store_true",
            help="The addresses already agreed: subscribe them at once.",
        )
        mode.add_argument(
            "--opt-in",
            action="store_true",
            help="Mail each new address a confirmation link; nothing else until it confirms.",
        )
        parser.add_argument(
            "--errors",
            metavar="FILE.csv",
            help="Where to write the rows that could not be imported (default FILE.errors.csv).",
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")
        add_json_flag(parser)

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No file {path}.")
        account = get_or_error(Account, "account", code=options["account"])
        topics = [get_or_error(Topic, "topic", account=account, code=c) for c in options["topic"]]
        total = max(count_lines(path) - 1, 1)
        quiet = options["no_progress"] or options["json"]
        columns = (
            TextColumn("Importing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with (
            path.open(newline="", encoding="utf-8-sig", errors="replace") as f,
            Progress(*columns, console=Console(file=sys.stderr), disable=quiet) as progress,
        ):
            task = progress.add_task("import", total=total)
            try:
                report = import_subscribers(
                    account,
                    topics,
                    read_rows(f),
                    confirmed=options["confirmed"],
                    progress=lambda done: progress.update(task, completed=done),
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from None
        errors_path = Path(options["errors"] or f"{path}.errors.csv")
        if report.errors:
            with errors_path.open("w", newline="") as out:
                writer = SafeWriter(out)
                writer.writerow(["line", "value", "error"])
                writer.writerows(report.errors)
        data = report.as_dict()
        data["errors_file"] = str(errors_path) if report.errors else None
        lines = [
            f"{report.rows} rows: {report.added} added, {report.existing} already known, "
            f"{report.duplicates} duplicates, {report.suppressed} suppressed, "
            f"{report.unsubscribed} unsubscribed earlier, {len(report.errors)} errors."
        ]
        lines += [f"line {n}: {v!r}: {e}" for n, v, e in report.errors[:20]]
        if len(report.errors) > 20:
            lines.append(f"… {len(report.errors) - 20} more")
        if report.errors:
            lines.append(f"Every error is in {errors_path}.")
        output(self, options, data, "\n".join(lines))
