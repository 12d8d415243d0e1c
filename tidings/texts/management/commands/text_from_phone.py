import smpplib.client
import smpplib.exceptions
from django.conf import settings
from django.core.management.base import CommandError

from tidings.delivery.smtp import parse_listen
from tidings.lib.commands import TidingsCommand
from tidings.texts.smsc import HANDSET, handset_text


class Command(TidingsCommand):
    help = (
        "Text Tidings as a phone would (a keyword, STOP, HELP) through its own SMSC. "
        "For trying text-to-subscribe without a gateway."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("number", metavar="NUMBER", help="the phone's number, +country…")
        parser.add_argument("text", metavar="TEXT")
        parser.add_argument("--to", default="", help="the account's number (TextProgram)")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        if settings.SMS_GATEWAY:
            raise CommandError(
                "A gateway is set (TIDINGS_SMS_GATEWAY): text from a real phone instead."
            )
        host, port = parse_listen(settings.SMSC_LISTEN)
        client = smpplib.client.Client(host, port, allow_unknown_opt_params=True)
        try:
            client.connect()
            client.bind_transmitter(system_id=HANDSET, password="")
            for short in handset_text(
                options["number"].lstrip("+"), options["to"], options["text"]
            ):
                client.send_message(
                    source_addr_ton=1, source_addr=short.source,
                    destination_addr=short.destination, short_message=short.message,
                    data_coding=short.data_coding, esm_class=short.esm_class,
                )  # fmt: skip
                answer = client.read_pdu()
                if answer.status:
                    raise CommandError(
                        "The SMSC could not deliver the text: no worker is bound to it "
                        "(run `tidings serve`, or `tidings worker --role texts`)."
                    )
            client.unbind()
        except (OSError, smpplib.exceptions.ConnectionError) as error:
            raise CommandError(
                f"Tidings' SMSC is not running on {settings.SMSC_LISTEN} ({error}): "
                "run `tidings serve` or `tidings smsc`."
            ) from None
        finally:
            client.disconnect()
        self.stdout.write("Sent; the texts role answers it (see the console's Text messages).")
