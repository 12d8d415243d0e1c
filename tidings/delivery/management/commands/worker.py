import logging

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from tidings.delivery.worker import step
from tidings.lib.stopping import StopFlag

log = logging.getLogger("tidings.worker")


class Command(BaseCommand):
    help = "Route received mail and send queued mail until stopped (SIGTERM or Ctrl-C)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--once", action="store_true", help="Stop when nothing is left to do.")
        parser.add_argument("--idle", type=float, default=0.5, help="Seconds to sleep when idle.")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        stop = StopFlag().install()
        log.info("worker started")
        while not stop.stopped:
            try:
                busy = step()
            except Exception:
                # A database hiccup must not end the worker; leases bring work back.
                log.exception("worker step failed")
                close_old_connections()
                busy = False
            if not busy:
                if options["once"]:
                    break
                stop.wait(options["idle"])
        log.info("worker stopped")
