from django.core.exceptions import ValidationError

from tidings.accounts.models import Account
from tidings.feeds.actions import save_watch
from tidings.feeds.models import Watch
from tidings.lib.commands import (
    TidingsCommand,
    add_json_flag,
    as_command_error,
    get_or_error,
    output,
)
from tidings.topics.models import Topic


class Command(TidingsCommand):
    help = "Make a topic watch an RSS/Atom feed (or, with --page, a web page)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("url", help="the feed's or page's http(s) URL")
        parser.add_argument("--account", required=True, help="account code")
        parser.add_argument("--topic", required=True, help="topic code")
        parser.add_argument("--page", action="store_true", help="Watch a web page's main text.")
        parser.add_argument(
            "--auto-send", action="store_true", help="Send new items at once (default: drafts)."
        )
        add_json_flag(parser)

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        account = get_or_error(Account, "account", code=options["account"])
        topic = get_or_error(Topic, "topic", account=account, code=options["topic"])
        watch = Watch(
            topic=topic,
            url=options["url"],
            kind=Watch.PAGE if options["page"] else Watch.FEED,
            mode=Watch.AUTO_SEND if options["auto_send"] else Watch.DRAFT,
        )
        try:
            save_watch(watch, account)
        except ValidationError as exc:
            raise as_command_error(exc) from None
        data = {"watch": watch.pk, "url": watch.url, "kind": watch.kind, "mode": watch.mode}
        text = (
            f"Watch #{watch.pk}: {topic.name} follows {watch.url} ({watch.get_mode_display()}). "
            "The first poll records what is there; run it now with: tidings poll-feeds"
        )
        output(self, options, data, text)
