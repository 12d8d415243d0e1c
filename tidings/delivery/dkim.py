"""DKIM signatures (dkimpy) on outgoing mail, with the key of the domain each message speaks for.

Keys come from TIDINGS_DKIM_KEY_DIR, one `<domain>.pem` per domain (e.g. tidings.example.org.pem
and lists.tidings.example.org.pem), and from the single key of TIDINGS_DKIM_KEY_FILE, which
signs for TIDINGS_DKIM_DOMAIN. Every domain uses the selector TIDINGS_DKIM_SELECTOR.

Which domain a message is signed for:
- list mail (it names its list in List-Post or X-BeenThere) for the list's domain, whether or
  not DMARC mitigation rewrote its From: the list is what vouches for a relayed post;
- any other message for its From domain when there is a key for it (DMARC alignment), else for
  TIDINGS_DKIM_DOMAIN.
A message whose domain has no key is signed with the TIDINGS_DKIM_KEY_FILE key, if any.
"""

from __future__ import annotations

import functools
import re
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses
from pathlib import Path

import dkim
from django.conf import settings

# What a receiver must see unchanged: the author, what the message is, and how to leave.
SIGNED_HEADERS = [
    b"From", b"To", b"Subject", b"Date", b"Message-ID", b"MIME-Version", b"Content-Type",
    b"List-Id", b"List-Unsubscribe", b"List-Unsubscribe-Post", b"List-Post", b"Reply-To",
    b"X-Original-From",
]  # fmt: skip

MAILTO = re.compile(r"<mailto:([^>?]+)")


@functools.cache
def _key(path: str) -> bytes:
    return Path(path).read_bytes()


def key_for(domain: str) -> bytes | None:
    """Return the private key that signs for domain, or None if there is none."""
    key_dir = settings.DKIM_KEY_DIR
    if key_dir and "/" not in domain and not domain.startswith("."):
        path = Path(key_dir) / f"{domain}.pem"
        if path.is_file():
            return _key(str(path))
    if settings.DKIM_KEY_FILE and domain == settings.DKIM_DOMAIN.lower():
        return _key(settings.DKIM_KEY_FILE)
    return None


def _domain(address: str) -> str:
    return address.strip().rpartition("@")[2].rstrip(">").strip().lower()


def signing_domain(message: bytes) -> str:
    """Return the domain a message should be signed for (see the module's docstring)."""
    end = message.find(b"\r\n\r\n")
    headers = BytesHeaderParser(policy=compat32).parsebytes(
        message[: end + 2 if end >= 0 else None]
    )
    post = MAILTO.search(str(headers.get("List-Post", "")))
    list_address = post.group(1) if post else str(headers.get("X-BeenThere", ""))
    if "@" in list_address:
        return _domain(list_address)
    authors = getaddresses([str(v) for v in headers.get_all("From", [])])
    if len(authors) == 1 and "@" in authors[0][1]:
        domain = _domain(authors[0][1])
        if key_for(domain) is not None:
            return domain
    return settings.DKIM_DOMAIN.lower()


def sign(message: bytes) -> bytes:
    """Return the message with a DKIM-Signature header, or unchanged if it has no key."""
    if not settings.DKIM_KEY_DIR and not settings.DKIM_KEY_FILE:
        return message  # no key at all: spare the worker a header parse per recipient
    domain = signing_domain(message)
    key = key_for(domain)
    if key is None:
        if not settings.DKIM_KEY_FILE:
            return message
        domain, key = settings.DKIM_DOMAIN.lower(), _key(settings.DKIM_KEY_FILE)
    signature = dkim.sign(
        message,
        settings.DKIM_SELECTOR.encode(),
        domain.encode(),
        key,
        include_headers=SIGNED_HEADERS,
        linesep=b"\r\n",
    )
    return signature + message
