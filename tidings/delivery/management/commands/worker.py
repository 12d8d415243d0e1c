import asyncio
import logging
import signal

from django.core.management.base import BaseCommand

from tidings.delivery.worker import Worker

log = logging.getLogger("tidings.worker")


class Command(BaseCommand):
    help = "Send queued mail, route received mail and run periodic jobs until SIGTERM or Ctrl-C."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--once", action="store_true", help="Stop when nothing is left to do.")
        parser.add_argument("--idle", type=float, default=0.5, help="Seconds to sleep when idle.")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        asyncio.run(self.run(options["once"], options["idle"]))

    async def run(self, once: bool, idle: float) -> None:
        worker = Worker(idle=idle)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, worker.stop.set)
        log.info("worker started")
        await worker.run(once=once)
        log.info("worker stopped")
