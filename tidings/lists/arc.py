"""ARC (RFC 8617) on relayed posts, as Google Groups seals them.

A list changes what it relays (subject tag, footer, maybe From), so the poster's DKIM
signature no longer verifies at the members' servers. The list records what it saw on arrival
(an Authentication-Results header: DKIM and SPF as lists.authenticity found them) and seals the
message with an ARC set signed by the lists domain's DKIM key, so receivers can trust the
original sender's authentication through the list. With no key for the lists domain, nothing
is sealed.
"""

from __future__ import annotations

import logging

import authres
import dkim
from django.conf import settings

from tidings.delivery.dkim import key_for
from tidings.lists.authenticity import Authentication

log = logging.getLogger("tidings.lists")

# What the seal signs: not List-Unsubscribe, which the worker makes personal per member after.
SEALED_HEADERS = [
    b"From", b"To", b"Cc", b"Subject", b"Date", b"Message-ID", b"Reply-To", b"List-Id",
    b"List-Post", b"MIME-Version", b"Content-Type", b"X-Original-From",
]  # fmt: skip


def can_seal() -> bool:
    return key_for(settings.LISTS_DOMAIN) is not None


def results_header(authentication: Authentication, mail_from: str) -> str:
    """Return the Authentication-Results value for what was found on arrival."""
    results: list[authres.AuthenticationResult] = []
    for domain in authentication.dkim_domains:
        results.append(authres.DKIMAuthenticationResult(result="pass", header_d=domain))
    if not authentication.dkim_domains:
        results.append(authres.DKIMAuthenticationResult(result="none"))
    results.append(
        authres.SPFAuthenticationResult(
            result=authentication.spf if authentication.spf else "none",
            smtp_mailfrom=mail_from or None,
        )
    )
    header = authres.AuthenticationResultsHeader(authserv_id=settings.LISTS_DOMAIN, results=results)
    return str(header).split(":", 1)[1].strip()


def seal(data: bytes, authentication: Authentication, mail_from: str) -> bytes:
    """Return the message bytes with Authentication-Results and an ARC set prepended."""
    key = key_for(settings.LISTS_DOMAIN)
    if key is None:
        return data
    value = results_header(authentication, mail_from)
    with_results = f"Authentication-Results: {value}\r\n".encode() + data
    try:
        headers = dkim.arc_sign(
            with_results,
            settings.DKIM_SELECTOR.encode(),
            settings.LISTS_DOMAIN.encode(),
            key,
            settings.LISTS_DOMAIN.encode(),
            include_headers=SEALED_HEADERS,
        )
    except Exception as exc:  # a key dkimpy can't use: relay unsealed rather than not at all
        log.warning("could not ARC-seal a post: %s", exc)
        return with_results
    return b"".join(headers) + with_results
