"""DNS lookups with a deadline, from one configured resolver: DKIM keys, SPF, DMARC.

TIDINGS_DNS_SERVERS names the servers to ask ("192.0.2.53" or "127.0.0.1:5353", comma-separated;
empty: the system's resolvers) and TIDINGS_DNS_TIMEOUT how long one lookup may take in all, so a
slow or silent DNS server never holds a worker.
"""

from __future__ import annotations

import logging

import dns.exception
import dns.rdatatype
import dns.resolver
from django.conf import settings

log = logging.getLogger("tidings.dns")


def resolver(timeout: float | None = None) -> dns.resolver.Resolver:
    servers = [s.strip() for s in settings.DNS_SERVERS.split(",") if s.strip()]
    found = dns.resolver.Resolver(configure=not servers)
    if servers:
        found.nameservers = []
        for server in servers:
            host, _, port = server.rpartition(":") if server.count(":") == 1 else (server, "", "")
            found.nameservers.append(host or server)
            if port:
                found.nameserver_ports[host] = int(port)
    found.lifetime = timeout if timeout is not None else settings.DNS_TIMEOUT
    found.timeout = found.lifetime
    return found


def txt(name: str, timeout: float | None = None) -> list[str] | None:
    """Return the TXT strings at a name: [] when there are none, None when DNS failed."""
    try:
        answer = resolver(timeout).resolve(name, "TXT")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except dns.exception.DNSException as exc:
        log.warning("TXT lookup of %s failed: %s", name, exc)
        return None
    return [b"".join(record.strings).decode("ascii", "replace") for record in answer]


def dkim_txt(name: bytes | str, timeout: float = 5) -> bytes | None:
    """dkimpy's dnsfunc: the first TXT record at a DKIM key's name, or None."""
    if isinstance(name, bytes):
        name = name.decode("ascii", "replace")
    records = txt(name.rstrip("."), min(timeout, settings.DNS_TIMEOUT))
    return records[0].encode() if records else None


def spf_lookup(name: str, qtype: str, tcpfallback: bool = True, timeout: float = 30) -> list:  # type: ignore[type-arg]
    """pyspf's DNSLookup, through the configured resolver and its deadline."""
    import spf

    found: list = []  # type: ignore[type-arg]
    try:
        answer = resolver(min(timeout, settings.DNS_TIMEOUT)).resolve(name, qtype)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return found
    except dns.exception.DNSException as exc:
        raise spf.TempError(f"DNS {exc}") from None
    for rdata in answer:
        if qtype in ("A", "AAAA"):
            found.append(((name, qtype), rdata.address))
        elif qtype == "MX":
            found.append(((name, qtype), (rdata.preference, rdata.exchange)))
        elif qtype == "PTR":
            found.append(((name, qtype), rdata.target.to_text(True)))
        elif qtype in ("TXT", "SPF"):
            found.append(((name, qtype), rdata.strings))
    return found
