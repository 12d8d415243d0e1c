import logging
import os

from tidings.delivery.smtp import parse_listen
from tidings.lib.commands import TidingsCommand

log = logging.getLogger("tidings.web")


class Command(TidingsCommand):
    help = "Run the web server (granian, a process per core): console, public pages, archive."
    requires_system_checks = "__all__"  # a server checks the installation once at start

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--listen", default="127.0.0.1:8000", help="host:port")
        parser.add_argument(
            "--processes", type=int, default=0, help="web processes (default: one per core)"
        )
        parser.add_argument("--threads", type=int, default=8, help="request threads per process")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        from django.conf import settings
        from django.core.management import call_command
        from granian import Granian
        from granian.constants import Interfaces

        host, port = parse_listen(options["listen"])
        # Static files from granian itself, under a URL that names their content (settings).
        call_command("collectstatic", interactive=False, verbosity=0)
        processes = options["processes"] or len(os.sched_getaffinity(0))
        log.info(
            "web server listening on http://%s/ (%d processes; SIGHUP reloads them one by one)",
            options["listen"],
            processes,
        )
        # granian: the HTTP side in Rust, Django in each process's threads. Measured against
        # gunicorn and waitress in bench/web.py (see pyproject.toml). SIGHUP restarts the
        # processes for a reload; SIGTERM lets requests finish, and each process writes its
        # open and click hits before it exits (tracking.hits).
        Granian(
            "tidings.wsgi:application",
            address=host,
            port=port,
            interface=Interfaces.WSGI,
            workers=processes,
            blocking_threads=options["threads"],
            respawn_failed_workers=True,
            log_access=False,
            workers_kill_timeout=30,
            static_path_route=["/" + settings.STATIC_URL.strip("/")],
            static_path_mount=[settings.STATIC_ROOT],
            static_path_expires=settings.STATIC_MAX_AGE,
        ).serve()
