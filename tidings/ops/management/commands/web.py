import logging

from tidings.lib.commands import TidingsCommand

log = logging.getLogger("tidings.web")


class Command(TidingsCommand):
    help = "Run the web server (waitress) for the console, public pages and archive."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--listen", default="127.0.0.1:8000", help="host:port")
        parser.add_argument("--threads", type=int, default=8)

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        from waitress import serve

        from tidings.wsgi import application

        log.info("web server listening on http://%s/", options["listen"])
        serve(application, listen=options["listen"], threads=options["threads"], ident="Tidings")
