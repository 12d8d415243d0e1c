from django.conf import settings
from django.core.management import call_command

from tidings.lib.commands import TidingsCommand
from tidings.ops.demo import seed, urls, web_address


class Command(TidingsCommand):
    help = "Migrate, seed the press-release scenario, publish it, and serve everything."
    requires_system_checks = "__all__"  # a server checks the installation once at start

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--http",
            default=web_address(settings.BASE_URL),
            help="web host:port (%(default)s, from TIDINGS_BASE_URL)",
        )
        parser.add_argument(
            "--smtp", default=settings.SMTP_LISTEN, help="SMTP host:port (%(default)s)"
        )
        parser.add_argument("--no-serve", action="store_true", help="Seed and publish, then exit.")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        call_command("migrate", interactive=False, verbosity=0)
        seeded = seed()
        send = seeded["send"]
        if send is not None:
            self.stdout.write(
                "Published the press release of 12/01/2015 12:38 PM EST to Press Releases "
                f"(send #{send.pk}); the workers deliver it as soon as Tidings runs."  # type: ignore[attr-defined]
            )
        else:
            self.stdout.write("The demo was seeded before; nothing new was published.")
        self.stdout.write("\nOpen:")
        for label, url in urls(seeded, settings.BASE_URL):
            self.stdout.write(f"  {label:<36} {url}")
        self.stdout.write(f"  Log in as admin / {seeded['password']}\n")
        if not options["no_serve"] and options["http"] != web_address(settings.BASE_URL):
            # The links are the base URL's (mail carries them too): say why they may not answer.
            self.stdout.write(
                f"The links above are TIDINGS_BASE_URL's ({settings.BASE_URL}); set it to "
                f"http://{options['http']} for them to reach the server started here."
            )
        if not options["no_serve"]:
            call_command("serve", http=options["http"], smtp=options["smtp"], no_migrate=True)
