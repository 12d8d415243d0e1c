import logging

from django.conf import settings

from tidings.delivery.smtp import parse_listen
from tidings.inbound.limits import limits
from tidings.inbound.smtpd import make_controller
from tidings.lib.commands import TidingsCommand
from tidings.lib.stopping import StopFlag

log = logging.getLogger("tidings.smtpd")


class Command(TidingsCommand):
    help = "Run Tidings' SMTP server: list addresses, bounces, commands, captured outbox."
    requires_system_checks = "__all__"  # a server checks the installation once at start

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--listen", default=settings.SMTP_LISTEN, help="host:port (default %(default)s)"
        )

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        host, port = parse_listen(options["listen"])
        stop = StopFlag().install()
        controller = make_controller(host, port)
        controller.start()
        log.info("SMTP server listening on %s:%s (%s)", host, port, limits())
        try:
            stop.event.wait()
        finally:
            controller.stop()
            log.info("SMTP server stopped")
