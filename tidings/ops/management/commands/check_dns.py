import sys

from tidings.lib.commands import TidingsCommand, add_json_flag, output
from tidings.ops.dns import advice, check, default_mx, wanted


class Command(TidingsCommand):
    help = "Print the DNS records to publish (MX, SPF, DKIM, DMARC) and check what is published."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--mx", default="", help="the host receiving mail (default: the web host)"
        )
        parser.add_argument("--ip", default="", help="the address mail leaves from, for SPF")
        parser.add_argument(
            "--no-lookup", action="store_true", help="only print the records, ask no DNS server"
        )
        add_json_flag(parser)

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        mx = options["mx"] or default_mx()
        records = wanted(mx, options["ip"])
        if not options["no_lookup"]:
            check(records)
        rows = [
            {"name": r.name, "type": r.kind, "value": r.value, "status": r.status} for r in records
        ]
        lines = [
            f"{r.name}. IN {r.kind} {r.value if r.kind != 'TXT' else chr(34) + r.value + chr(34)}"
            + (f"    ; {r.status}" if r.status else "")
            for r in records
        ]
        tips = advice(mx, options["ip"])
        text = "\n".join(["; Records to publish", *lines, "", *(f"; {t}" for t in tips)])
        output(self, options, {"records": rows, "advice": tips}, text)
        if any(r.status and not r.status.startswith("published") for r in records):
            sys.exit(1)
