"""Signed, expiring tokens for links in mail (unsubscribe, preferences) and VERP addresses."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.core import signing


class BadToken(Exception):
    """The token was forged, damaged, meant for something else, or has expired."""


class ExpiredToken(BadToken):
    """The token was genuine but is too old."""


def make_token(purpose: str, value: object) -> str:
    return signing.dumps(value, salt=f"tidings.{purpose}", compress=True)


def read_token(purpose: str, token: str, max_age: int) -> object:
    try:
        return signing.loads(token, salt=f"tidings.{purpose}", max_age=max_age)
    except signing.SignatureExpired:
        raise ExpiredToken("This link has expired.") from None
    except signing.BadSignature:
        raise BadToken("This link is not valid.") from None


def short_mac(purpose: str, value: str, length: int = 10) -> str:
    """Return a short keyed hash of value, for addresses where a full signature is too long."""
    key = f"tidings.{purpose}.{settings.SECRET_KEY}".encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:length]


def sign_id(purpose: str, ident: int) -> str:
    """Return a compact signed, timestamped token for a row id (cheap enough per recipient)."""
    return signing.TimestampSigner(salt=f"tidings.id.{purpose}").sign(str(ident))


def unsign_id(purpose: str, token: str, max_age: int) -> int:
    signer = signing.TimestampSigner(salt=f"tidings.id.{purpose}")
    try:
        value = signer.unsign(token, max_age=max_age)
    except signing.SignatureExpired:
        raise ExpiredToken("This link has expired.") from None
    except signing.BadSignature:
        raise BadToken("This link is not valid.") from None
    if not value.isdigit():
        raise BadToken("This link is not valid.")
    return int(value)
