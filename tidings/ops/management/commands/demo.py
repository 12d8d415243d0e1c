from django.conf import settings
from django.core.management import call_command

from tidings.lib.commands import TidingsCommand
from tidings.ops.demo import seed, urls


class Command(TidingsCommand):
    help = "Migrate, seed the press-release scenario, publish it, and serve everything."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--http", default="127.0.0.1:8000", help="web host:port (%(default)s)")
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
        if not options["no_serve"]:
            call_command("serve", http=options["http"], smtp=options["smtp"], no_migrate=True)
