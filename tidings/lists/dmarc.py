"""DMARC mitigation: a post from a domain that asks receivers to refuse forged mail goes out
From the list, with the author kept in X-Original-From and Reply-To."""

from __future__ import annotations

import logging
import time
from email.message import EmailMessage
from email.utils import getaddresses

from django.conf import settings

from tidings.lib import dnsquery
from tidings.lib.mail import domain_of

log = logging.getLogger("tidings.lists")

STRICT = ("reject", "quarantine")
CACHE_SECONDS = 3600
# A DNS failure is not an answer: ask again soon rather than trust it for an hour.
FAILURE_CACHE_SECONDS = 60
# Names that never have DMARC records (RFC 2606, RFC 6761): no query leaves the machine for them.
RESERVED_TLDS = {"localhost", "test", "example", "invalid", "local"}
RESERVED_DOMAINS = {"example.com", "example.net", "example.org"}

_cache: dict[str, tuple[float, str]] = {}


def txt_records(name: str) -> list[str] | None:
    """Return the TXT strings at a DNS name: [] when there are none, None when DNS failed."""
    return dnsquery.txt(name, settings.LISTS_DMARC_DNS_TIMEOUT)


def parse_record(records: list[str], *, subdomain: bool = False) -> str | None:
    """Return the policy of the one DMARC record among TXT strings, or None if there is none."""
    found = [r for r in records if r.strip().lower().startswith("v=dmarc1")]
    if len(found) != 1:
        return None  # RFC 7489 6.6.3: none, or more than one, means no policy
    tags = {}
    for tag in found[0].split(";"):
        key, _, value = tag.partition("=")
        tags[key.strip().lower()] = value.strip().lower()
    if subdomain and "sp" in tags:
        return tags["sp"]
    return tags.get("p", "")


def _lookup(domain: str) -> tuple[str, bool]:
    """Return the domain's policy and whether the answer can be trusted for long."""
    records = txt_records(f"_dmarc.{domain}")
    if records is None:
        return "", False
    policy = parse_record(records)
    labels = domain.split(".")
    if policy is None and len(labels) > 2:
        # The organizational domain, approximated by its last two labels (no public suffix list).
        records = txt_records(f"_dmarc.{'.'.join(labels[-2:])}")
        if records is None:
            return "", False
        policy = parse_record(records, subdomain=True)
    return policy or "", True


def domain_policy(domain: str) -> str:
    """Return the DMARC policy a domain publishes ("reject", "quarantine", "none" or "")."""
    domain = domain.lower().rstrip(".")
    local = (settings.MAIL_DOMAIN, settings.LISTS_DOMAIN)
    if not domain or domain in local or domain in RESERVED_DOMAINS:
        return ""
    if domain.rpartition(".")[2] in RESERVED_TLDS:
        return ""
    cached = _cache.get(domain)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    policy, trusted = _lookup(domain)
    ttl = CACHE_SECONDS if trusted else FAILURE_CACHE_SECONDS
    _cache[domain] = (time.monotonic() + ttl, policy)
    return policy


def author(msg: EmailMessage) -> tuple[str, str]:
    """Return the display name and address of the post's first From."""
    pairs = getaddresses([str(v) for v in msg.get_all("From", [])])
    return next(((name, address) for name, address in pairs if "@" in address), ("", ""))


def needs_mitigation(msg: EmailMessage) -> bool:
    """Whether relaying the post From its author would fail DMARC at receivers that enforce it."""
    _, address = author(msg)
    return bool(address) and domain_policy(domain_of(address)) in STRICT


def rewrite_from(msg: EmailMessage, list_address: str, list_name: str) -> None:
    """Send the post From the list, naming the author, who stays reachable by Reply-To."""
    original = str(msg["From"])
    name, address = author(msg)
    shown = f"'{name or address}' via {list_name}".replace("\\", "\\\\").replace('"', '\\"')
    del msg["X-Original-From"]
    msg["X-Original-From"] = original
    if msg.get("Reply-To") is None:  # an author's own Reply-To already says where replies go
        msg["Reply-To"] = original
    del msg["From"]
    msg["From"] = f'"{shown}" <{list_address}>'
