import logging
import os
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from tidings.delivery.smtp import parse_listen
from tidings.lib.commands import TidingsCommand
from tidings.lib.stopping import StopFlag

log = logging.getLogger("tidings.serve")


def port_taken(listen: str) -> str:
    """Return why the address can't be listened on ("" when it can)."""
    host, port = parse_listen(listen)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            return error.strerror or str(error)
    return ""


class Command(TidingsCommand):
    help = "Run everything: web server, SMTP server and workers, until Ctrl-C or SIGTERM."
    requires_system_checks = "__all__"  # a server checks the installation once at start

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--http", default="127.0.0.1:8000", help="web host:port (%(default)s)")
        parser.add_argument(
            "--smtp", default=settings.SMTP_LISTEN, help="SMTP host:port (%(default)s)"
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=os.cpu_count() or 2,
            help="worker processes (%(default)s)",
        )
        parser.add_argument(
            "--no-migrate", action="store_true", help="Don't apply migrations first."
        )

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        # A port already taken (another `tidings serve`, say) stops everything at once, before
        # any child starts only to fail and be restarted forever.
        ports = [("web", options["http"], "--http"), ("SMTP", options["smtp"], "--smtp")]
        if not settings.SMS_GATEWAY:
            ports.append(("SMSC", settings.SMSC_LISTEN, "TIDINGS_SMSC_LISTEN"))
        for what, listen, option in ports:
            problem = port_taken(listen)
            if problem:
                raise CommandError(
                    f"The {what} address {listen} is taken ({problem}): is Tidings already "
                    f"running? Stop it, or choose another address with {option}."
                )
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        # Children read the SMTP address from the environment so that the workers' default
        # relay (Tidings' own server) is the one this command starts.
        env = {**os.environ, "TIDINGS_SMTP_LISTEN": options["smtp"]}
        commands = {
            "web": ["web", "--listen", options["http"]],
            "smtpd": ["smtpd", "--listen", options["smtp"]],
        }
        if not settings.SMS_GATEWAY:
            # Texts go to Tidings' own SMSC, the captured outbox for text messages.
            commands["smsc"] = ["smsc"]
        for n in range(options["workers"]):
            commands[f"worker-{n + 1}"] = ["worker"]
        stop = StopFlag().install()
        children: dict[str, subprocess.Popen[bytes]] = {}

        def start(name: str) -> None:
            argv = [sys.executable, "-m", "tidings", *commands[name]]
            # A process group of its own: the terminal's Ctrl-C reaches serve, which then
            # stops each child in order rather than all at once.
            children[name] = subprocess.Popen(argv, env=env, start_new_session=True)  # noqa: S603

        start("smtpd")
        # Workers relay through this SMTP server when no other relay is set: let it listen
        # first, or their first chunk would find nobody there and wait out a retry delay.
        self.wait_for_port(options["smtp"], children["smtpd"], what="SMTP")
        if "smsc" in commands:  # likewise for texts, when they go to Tidings' own SMSC
            start("smsc")
            self.wait_for_port(settings.SMSC_LISTEN, children["smsc"], what="SMSC")
        for name in commands:
            if name not in children:
                start(name)
        # "Running" is said once the web pages answer: the demo prints links to open right away.
        self.wait_for_port(options["http"], children["web"], what="web")
        self.stdout.write(
            f"Tidings is running: web http://{options['http']}/  SMTP {options['smtp']}"
            + ("" if settings.SMS_GATEWAY else f"  SMSC {settings.SMSC_LISTEN}")
        )
        started = dict.fromkeys(children, time.monotonic())
        quick_exits = dict.fromkeys(children, 0)
        try:
            while not stop.wait(1.0):
                for name, child in list(children.items()):
                    if child.poll() is None:
                        continue
                    # A child that keeps dying at once (a bad setting, a taken port) is not
                    # restarted forever: three quick exits in a row stop everything.
                    quick = time.monotonic() - started[name] < 10
                    quick_exits[name] = quick_exits[name] + 1 if quick else 0
                    if quick_exits[name] >= 3:
                        raise CommandError(
                            f"{name} exited with {child.returncode} three times in a row right "
                            "after starting; stopping. Its messages above say why."
                        )
                    log.warning("%s exited with %s; restarting it", name, child.returncode)
                    time.sleep(1)
                    start(name)
                    started[name] = time.monotonic()
        finally:
            for child in children.values():
                if child.poll() is None:
                    child.terminate()
            deadline = time.monotonic() + 15
            for name, child in children.items():
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    log.warning("%s did not stop in time; killing it", name)
                    child.kill()
                    child.wait()
            self.stdout.write("Tidings stopped.")

    def wait_for_port(
        self, listen: str, child: subprocess.Popen[bytes], *, what: str, seconds: float = 30
    ) -> None:
        host, port = parse_listen(listen)
        if host in ("0.0.0.0", "::", ""):  # noqa: S104 - listening everywhere; connect locally
            host = "127.0.0.1"
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and child.poll() is None:
            try:
                socket.create_connection((host, port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        log.warning("the %s server is not listening on %s yet; going on anyway", what, listen)
