"""A DNS server on loopback (dnslib) for DKIM keys, SPF and DMARC records in tests.

The `dns_zone` fixture starts it and points TIDINGS_DNS_SERVERS at it; a test fills the zone:
`dns_zone.txt("_dmarc.example.com", "v=DMARC1; p=reject")`. Names not in the zone are NXDOMAIN.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

import pytest
from dnslib import MX, QTYPE, RCODE, RR, TXT, A
from dnslib.server import BaseResolver, DNSServer

from tests.smtp_helpers import free_port


class Zone(BaseResolver):  # type: ignore[misc]
    def __init__(self) -> None:
        self.records: defaultdict[str, list[tuple[str, object]]] = defaultdict(list)
        self.asked: list[str] = []

    def txt(self, name: str, value: str) -> None:
        # Long values go out as several character-strings, as DKIM keys do in real zones.
        chunks = [value[i : i + 255] for i in range(0, len(value), 255)] or [""]
        self.records[name.lower().rstrip(".")].append(("TXT", TXT([c.encode() for c in chunks])))

    def mx(self, name: str, host: str, priority: int = 10) -> None:
        self.records[name.lower().rstrip(".")].append(("MX", MX(host, priority)))

    def a(self, name: str, address: str) -> None:
        self.records[name.lower().rstrip(".")].append(("A", A(address)))

    def resolve(self, request, handler):  # type: ignore[no-untyped-def]
        reply = request.reply()
        name = str(request.q.qname).lower().rstrip(".")
        qtype = QTYPE[request.q.qtype]
        self.asked.append(f"{qtype} {name}")
        found = self.records.get(name)
        if not found:
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        for kind, data in found:
            if kind == qtype:
                reply.add_answer(RR(request.q.qname, getattr(QTYPE, kind), rdata=data, ttl=60))
        return reply


@pytest.fixture
def dns_zone(settings) -> Iterator[Zone]:  # type: ignore[no-untyped-def]
    zone = Zone()
    port = free_port()
    udp = DNSServer(zone, port=port, address="127.0.0.1")
    tcp = DNSServer(zone, port=port, address="127.0.0.1", tcp=True)
    udp.start_thread()
    tcp.start_thread()
    settings.DNS_SERVERS = f"127.0.0.1:{port}"
    settings.DNS_TIMEOUT = 2
    try:
        yield zone
    finally:
        udp.stop()
        tcp.stop()
