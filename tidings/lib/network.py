"""Client networks: what per-client limits count, so one host can't dodge them by address.

An IPv6 host usually holds a whole /64 and can pick a new address from it for each request;
an IPv4 host has one address. Limits are therefore kept per IPv4 address and per IPv6 /64.
"""

from __future__ import annotations

import ipaddress


def network_of(ip: str) -> str:
    """Return the key a per-client limit counts for this address ("" stays "")."""
    try:
        address = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    return str(address)


def parse_networks(value: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Parse a comma-separated list of networks ("127.0.0.0/8, ::1"); raise ValueError."""
    return [
        ipaddress.ip_network(part.strip(), strict=False)
        for part in value.split(",")
        if part.strip()
    ]


def in_networks(ip: str, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        address = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)
