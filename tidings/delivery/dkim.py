"""DKIM signatures (dkimpy) on outgoing mail, when a key is configured."""

from __future__ import annotations

import functools
from pathlib import Path

import dkim
from django.conf import settings

# What a receiver must see unchanged: the author, what the message is, and how to leave.
SIGNED_HEADERS = [
    b"From", b"To", b"Subject", b"Date", b"Message-ID", b"MIME-Version", b"Content-Type",
    b"List-Id", b"List-Unsubscribe", b"List-Unsubscribe-Post",
]  # fmt: skip


@functools.cache
def _key(path: str) -> bytes:
    return Path(path).read_bytes()


def sign(message: bytes) -> bytes:
    """Return the message with a DKIM-Signature header, or unchanged if no key is configured."""
    if not settings.DKIM_KEY_FILE:
        return message
    signature = dkim.sign(
        message,
        settings.DKIM_SELECTOR.encode(),
        settings.DKIM_DOMAIN.encode(),
        _key(settings.DKIM_KEY_FILE),
        include_headers=SIGNED_HEADERS,
        linesep=b"\r\n",
    )
    return signature + message
