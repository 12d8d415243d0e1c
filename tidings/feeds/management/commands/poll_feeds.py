from tidings.feeds.models import Watch
from tidings.feeds.poll import poll_watch
from tidings.lib.commands import TidingsCommand, add_json_flag, output


class Command(TidingsCommand):
    help = "Poll every enabled watch once (or only --watch ID), now, whatever their schedule."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--watch", type=int, action="append", help="watch id (repeatable)")
        add_json_flag(parser)

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        watches = Watch.objects.filter(enabled=True).select_related("topic__account")
        if options["watch"]:
            watches = Watch.objects.filter(pk__in=options["watch"]).select_related("topic__account")
        rows = []
        lines = []
        for watch in watches.order_by("pk"):
            result = poll_watch(watch)
            row = {
                "watch": watch.pk,
                "url": watch.url,
                "not_modified": result.not_modified,
                "recorded": result.primed,
                "sent": [b.pk for b in result.sent],
                "drafts": [b.pk for b in result.drafts],
                "error": result.error,
            }
            rows.append(row)
            if result.error:
                state = f"error: {result.error}"
            elif result.not_modified:
                state = "not modified"
            else:
                state = (
                    f"{len(result.sent)} sent, {len(result.drafts)} drafts, "
                    f"{result.primed} recorded"
                )
            lines.append(f"#{watch.pk} {watch.url}: {state}")
        output(self, options, {"watches": rows}, "\n".join(lines) or "No watches to poll.")
