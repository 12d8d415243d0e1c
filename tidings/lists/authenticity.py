"""Who really sent a post: DKIM, SPF, or Tidings' own signed return path.

A From address costs nothing to write. On lists whose senders must be authenticated, an
accept-listed or member From counts only when one of these vouches for it:

- a DKIM signature that verifies (dkimpy) with d= aligned with the From domain (the same
  organizational domain, as DMARC's relaxed alignment has it);
- SPF pass (pyspf) for an envelope sender whose domain is aligned with From;
- Tidings' own bulletin to this very list: its envelope sender is the signed VERP return path of
  a delivery addressed to the list, which only Tidings can write, and which survives an outside
  MX handing the message back over plain SMTP.

Lookups go through tidings.lib.dnsquery, with its deadline. Behind an MX that relays to
Tidings, the client address SPF sees is the MX's: such a post is vouched for by DKIM or not at
all.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import dkim
import spf
from django.conf import settings

from tidings.delivery.models import Delivery
from tidings.delivery.verp import delivery_of
from tidings.lib import dnsquery
from tidings.lib.mail import domain_of

log = logging.getLogger("tidings.lists")

# pyspf asks DNS through a module-level function: ours has the configured servers and deadline.
spf.DNSLookup = dnsquery.spf_lookup

DKIM_SIGNATURE = re.compile(rb"^DKIM-Signature:", re.I | re.M)


@dataclass
class Authentication:
    """What vouched for a post when it arrived: each verified DKIM d=, the SPF result for its
    envelope sender, and whether it is Tidings' own bulletin to the list."""

    dkim_domains: list[str] = field(default_factory=list)
    spf: str = "none"
    spf_domain: str = ""
    own_bulletin: bool = False

    def vouches_for(self, address: str) -> str:
        """Return how the From address is authenticated ("dkim", "spf", "tidings"), or ""."""
        if self.own_bulletin:
            return "tidings"
        domain = domain_of(address)
        if any(aligned(d, domain) for d in self.dkim_domains):
            return "dkim"
        if self.spf == "pass" and aligned(self.spf_domain, domain):
            return "spf"
        return ""


def organizational(domain: str) -> str:
    """The organizational domain, approximated by the last two labels (as lists.dmarc does)."""
    return ".".join(domain.lower().rstrip(".").split(".")[-2:])


def aligned(one: str, other: str) -> bool:
    return bool(one and other) and organizational(one) == organizational(other)


def verified_dkim_domains(raw: bytes) -> list[str]:
    """Return the d= of every DKIM signature on the message that verifies."""
    found = []
    for index in range(len(DKIM_SIGNATURE.findall(raw))):
        checker = dkim.DKIM(raw, timeout=settings.DNS_TIMEOUT)
        try:
            if checker.verify(idx=index, dnsfunc=dnsquery.dkim_txt):
                found.append(checker.domain.decode("ascii", "replace").lower())
        except Exception as exc:  # a malformed signature or a DNS failure: not a pass
            log.info("DKIM signature %s did not verify: %s", index, exc)
    return found


def spf_result(ip: str, mail_from: str, helo: str) -> str:
    if not ip or not mail_from:
        return "none"
    try:
        result, _explanation = spf.check2(
            i=ip, s=mail_from, h=helo or "unknown", timeout=settings.DNS_TIMEOUT
        )
    except Exception as exc:
        log.info("SPF check of %s from %s failed: %s", mail_from, ip, exc)
        return "temperror"
    return str(result)


def is_own_bulletin(mail_from: str, list_address: str) -> bool:
    """Whether the envelope sender is the signed return path of a delivery to this list."""
    delivery_id = delivery_of(mail_from) if mail_from else None
    if delivery_id is None:
        return False
    sent_to = Delivery.objects.filter(pk=delivery_id).values_list("address", flat=True)
    return any(a.lower() == list_address.lower() for a in sent_to)


def authenticate(
    raw: bytes, mail_from: str, peer: str, helo: str, list_address: str
) -> Authentication:
    """Find out what vouches for a received post (DNS lookups, each with the deadline)."""
    if is_own_bulletin(mail_from, list_address):
        return Authentication(own_bulletin=True)
    return Authentication(
        dkim_domains=verified_dkim_domains(raw),
        spf=spf_result(peer, mail_from, helo),
        spf_domain=domain_of(mail_from) if mail_from else "",
    )
