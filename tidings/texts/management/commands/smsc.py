import asyncio
import logging

from asgiref.sync import sync_to_async
from django.conf import settings

from tidings.delivery.smtp import parse_listen
from tidings.lib.commands import TidingsCommand
from tidings.lib.segments import decode
from tidings.texts.models import CapturedText
from tidings.texts.pdu import concatenation
from tidings.texts.smsc import SMSC, Submitted, serve_forever

log = logging.getLogger("tidings.texts.smsc")


def keep(batch: list[Submitted]) -> None:
    """Keep a batch of segments in the captured outbox, in one transaction."""
    rows = []
    for submitted in batch:
        short = submitted.short
        reference, part, parts, body = concatenation(short.message, short.esm_class)
        rows.append(
            CapturedText(
                source=short.source[:32],
                destination=short.destination[:32],
                body=decode(body, short.data_coding),
                coding=short.data_coding,
                message_id=submitted.message_id,
                reference=reference,
                part=part,
                parts=parts,
            )
        )
    CapturedText.objects.bulk_create(rows)


class Command(TidingsCommand):
    help = "Run Tidings' SMSC: the captured outbox for text messages when no gateway is set."
    requires_system_checks = "__all__"  # a server checks the installation once at start

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--listen", default=settings.SMSC_LISTEN, help="host:port (default %(default)s)"
        )

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        from tidings.lib.stopping import StopFlag

        host, port = parse_listen(options["listen"])
        flag = StopFlag().install()

        async def main() -> None:
            stop = asyncio.Event()

            async def watch() -> None:
                while not flag.event.is_set():
                    await asyncio.sleep(0.3)
                stop.set()

            watcher = asyncio.ensure_future(watch())
            smsc = SMSC(sync_to_async(keep, thread_sensitive=True))
            await serve_forever(smsc, host, port, stop)
            watcher.cancel()

        asyncio.run(main())
