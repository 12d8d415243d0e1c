import sys
from datetime import datetime
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from tidings.accounts.models import Account
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.lib.commands import (
    TidingsCommand,
    add_json_flag,
    as_command_error,
    get_or_error,
    output,
)
from tidings.topics.models import Topic


def split_title(text: str) -> tuple[str, str]:
    """Take the first line as the title and the rest as the body."""
    first, _, rest = text.strip().partition("\n")
    return first.lstrip("# ").strip(), rest.strip()


class Command(TidingsCommand):
    help = "Publish a bulletin from a file (Markdown or HTML) to topics' subscribers."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("file", help="body file, or - for standard input")
        parser.add_argument("--account", required=True, help="account code")
        parser.add_argument(
            "--topic", required=True, action="append", help="topic code (repeatable)"
        )
        parser.add_argument("--subject", default="", help="title (default: the file's first line)")
        parser.add_argument("--format", choices=["markdown", "html"], default="markdown")
        parser.add_argument(
            "--published-at",
            default="",
            help="ISO time, e.g. 2015-12-01T12:38 (in the account's time zone unless it has one)",
        )
        parser.add_argument("--draft", action="store_true", help="Only create the draft.")
        add_json_flag(parser)

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        account = get_or_error(Account, "account", code=options["account"])
        topics = [get_or_error(Topic, "topic", account=account, code=c) for c in options["topic"]]
        try:
            text = sys.stdin.read() if options["file"] == "-" else Path(options["file"]).read_text()
        except OSError as exc:
            raise CommandError(f"Cannot read {options['file']}: {exc.strerror}") from None
        subject, body = (options["subject"], text) if options["subject"] else split_title(text)
        if not subject or not body.strip():
            raise CommandError("The bulletin needs a title and a body.")
        published_at = None
        if options["published_at"]:
            try:
                published_at = datetime.fromisoformat(options["published_at"])
            except ValueError:
                raise CommandError(
                    "--published-at must be an ISO time like 2015-12-01T12:38"
                ) from None
            if published_at.tzinfo is None:
                published_at = published_at.replace(tzinfo=account.tz)
        try:
            bulletin = create_bulletin(
                account, subject=subject, body=body, topics=topics, body_format=options["format"]
            )
            send = (
                None if options["draft"] else publish_bulletin(bulletin, published_at=published_at)
            )
        except ValidationError as exc:
            raise as_command_error(exc) from None
        data = {
            "bulletin": bulletin.pk,
            "status": bulletin.status,
            "send": send.pk if send else None,
            "recipients": send.deliveries.count() if send else 0,
        }
        if send is None:
            text_out = f"Saved draft bulletin #{bulletin.pk}."
        else:
            text_out = (
                f"Published bulletin #{bulletin.pk} as send #{send.pk} to {data['recipients']} "
                f"recipients. Follow it with: tidings status {send.pk}"
            )
        if send is not None and not data["recipients"]:
            codes = ", ".join(t.code for t in topics)
            self.stderr.write(
                f"Warning: nobody gets this bulletin: {codes} has no confirmed subscriber "
                "(it is published, and kept in the topic's archive)."
            )
        output(self, options, data, text_out)
