import sys
from typing import IO, cast

from django.core.exceptions import ValidationError

from tidings.bulletins.actions import publish_bulletin
from tidings.bulletins.models import Bulletin
from tidings.delivery.progress import StoppedFollowing, follow
from tidings.lib.commands import TidingsCommand, as_command_error, get_or_error


class Command(TidingsCommand):
    help = "Send a draft bulletin now and show its progress (the workers do the sending)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("bulletin", type=int, help="draft bulletin id")
        parser.add_argument("--no-follow", action="store_true", help="Return at once.")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        bulletin = get_or_error(Bulletin, "bulletin", pk=options["bulletin"])
        try:
            send = publish_bulletin(bulletin)
        except ValidationError as exc:
            raise as_command_error(exc) from None
        self.stdout.write(
            f"Bulletin #{bulletin.pk} is send #{send.pk}: {send.deliveries.count():,} recipients."
        )
        if not options["no_follow"]:
            try:
                counts = follow(send, cast(IO[str], self.stdout))
            except StoppedFollowing as stopped:
                self.stderr.write(str(stopped))
                sys.exit(130)
            self.stdout.write(
                f"send #{send.pk} {send.state}: {counts['sent']:,} sent, "
                f"{counts['deferred']:,} deferred, {counts['failed']:,} failed"
            )
