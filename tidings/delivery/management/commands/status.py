import sys
from typing import IO, cast

from rich.console import Console
from rich.table import Table

from tidings.delivery.actions import send_counts
from tidings.delivery.models import Send
from tidings.delivery.progress import StoppedFollowing, follow
from tidings.lib.commands import TidingsCommand, add_json_flag, get_or_error, output


def describe(send: Send) -> dict[str, object]:
    what = (
        send.bulletin.subject
        if send.bulletin
        else (send.mailing_list.address if send.mailing_list else "")
    )
    return {
        "send": send.pk,
        "kind": send.kind,
        "channel": send.channel,
        "state": send.state,
        "what": what,
        "created": send.created.isoformat(),
        "finished": send.finished_at.isoformat() if send.finished_at else None,
        "counts": send_counts(send),
    }


class Command(TidingsCommand):
    help = "Show how sends are doing: recent sends, or one send's counts (--follow for a live bar)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("send", nargs="?", type=int, help="send id")
        parser.add_argument("--follow", action="store_true", help="Show a live progress bar.")
        parser.add_argument("--limit", type=int, default=20)
        add_json_flag(parser)

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        if options["send"] is None:
            sends = Send.objects.select_related("bulletin", "mailing_list").order_by("-id")
            rows = [describe(s) for s in sends[: options["limit"]]]
            if options["json"]:
                output(self, options, {"sends": rows}, "")
                return
            table = Table("send", "kind", "state", "what", "sent", "deferred", "failed", "total")
            for r in rows:
                c = r["counts"]
                assert isinstance(c, dict)
                table.add_row(
                    str(r["send"]),
                    str(r["kind"]) + (" (text)" if r["channel"] == Send.TEXT else ""),
                    str(r["state"]), str(r["what"])[:50],
                    str(c["sent"]), str(c["deferred"]), str(c["failed"]), str(c["total"]),
                )  # fmt: skip
            Console(file=cast(IO[str], self.stdout)).print(table)
            return
        send = get_or_error(Send, "send", pk=options["send"])
        if options["follow"] and not options["json"]:
            try:
                follow(send, cast(IO[str], self.stdout))
            except StoppedFollowing as stopped:
                self.stderr.write(str(stopped))
                sys.exit(130)
        data = describe(send)
        c = data["counts"]
        assert isinstance(c, dict)
        text = (
            f"send #{send.pk} ({send.kind}{' by text' if send.channel == Send.TEXT else ''}, "
            f"{send.state}): {c['sent']} sent, "
            f"{c['deferred']} deferred, {c['throttled']} waiting for a rate limit, "
            f"{c['failed']} failed, "
            f"{c['queued'] + c['sending']} waiting, {c['cancelled']} cancelled, of {c['total']}"
        )
        output(self, options, data, text)
