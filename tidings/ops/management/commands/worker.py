import asyncio
import logging
import signal

from django.core.management.base import CommandError

from tidings.lib.commands import TidingsCommand
from tidings.ops.worker import ROLES, Worker

log = logging.getLogger("tidings.worker")


class Command(TidingsCommand):
    help = "Send mail, route received mail, run periodic jobs (or --role some) until stopped."
    requires_system_checks = "__all__"  # a server checks the installation once at start

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--role",
            action="append",
            choices=ROLES,
            help="play only this role (repeat for several); default: all of " + ", ".join(ROLES),
        )
        parser.add_argument("--once", action="store_true", help="Stop when nothing is left to do.")
        parser.add_argument("--idle", type=float, default=0.5, help="Seconds to sleep when idle.")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        roles = tuple(dict.fromkeys(options["role"] or ROLES))
        try:
            asyncio.run(self.run(roles, options["once"], options["idle"]))
        except ValueError as error:
            raise CommandError(str(error)) from error
        except Exception:  # into the configured log (JSON too) and counted, not bare stderr
            log.exception("the worker stopped on an error")
            raise SystemExit(1) from None

    async def run(self, roles: tuple[str, ...], once: bool, idle: float) -> None:
        worker = Worker(idle=idle, roles=roles)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, worker.stop.set)
        log.info("worker started: %s", ", ".join(roles))
        await worker.run(once=once)
        log.info("worker stopped")
