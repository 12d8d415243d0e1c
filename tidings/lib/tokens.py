"""Signed, expiring tokens for links in mail (unsubscribe, preferences) and VERP addresses."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import time

from django.conf import settings
from django.core import signing
from django.utils.translation import gettext


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
        raise ExpiredToken(gettext("This link has expired.")) from None
    except signing.BadSignature:
        raise BadToken(gettext("This link is not valid.")) from None


@functools.lru_cache(maxsize=64)
def _keyed(purpose: str, secret: str) -> hmac.HMAC:
    key = hashlib.sha256(f"tidings.{purpose}.{secret}".encode()).digest()
    return hmac.new(key, digestmod=hashlib.sha256)


def _mac(purpose: str, value: str) -> bytes:
    """Return HMAC-SHA256 of value under a key derived from SECRET_KEY and the purpose."""
    mac = _keyed(purpose, settings.SECRET_KEY).copy()
    mac.update(value.encode())
    return mac.digest()


def short_mac(purpose: str, value: str, length: int = 10) -> str:
    """Return a short keyed hash of value, for addresses where a full signature is too long."""
    return _mac(purpose, value).hex()[:length]


def _b36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def sign_id(purpose: str, ident: int) -> str:
    """Return a compact signed, timestamped token for a row id: ID-TIME-MAC, cheap to make."""
    body = f"{ident}-{_b36(int(time.time()))}"
    mac = base64.urlsafe_b64encode(_mac(f"id.{purpose}", body)[:16]).rstrip(b"=").decode()
    return f"{body}-{mac}"


def unsign_id(purpose: str, token: str, max_age: int) -> int:
    """Return the id in a token from sign_id(); raise BadToken or ExpiredToken."""
    ident, _, rest = token.partition("-")
    stamp, _, mac = rest.partition("-")
    if not (ident.isdigit() and stamp.isalnum() and mac):
        raise BadToken(gettext("This link is not valid."))
    expected = base64.urlsafe_b64encode(_mac(f"id.{purpose}", f"{ident}-{stamp}")[:16])
    if not hmac.compare_digest(expected.rstrip(b"=").decode(), mac):
        raise BadToken(gettext("This link is not valid."))
    if time.time() - int(stamp, 36) > max_age:
        raise ExpiredToken(gettext("This link has expired."))
    return int(ident)


def signed_local(kind: str, ident: int) -> str:
    """Return the local part "<kind>+<id>.<mac>" of an address that names one row, signed."""
    value = str(ident)
    return f"{kind}+{value}.{short_mac(kind, value)}"


def read_signed_local(kind: str, local: str) -> int | None:
    """Return the id a signed_local() part names, or None if it is not one (or forged)."""
    prefix = f"{kind}+"
    if not local.startswith(prefix):
        return None
    ident, _, mac = local[len(prefix) :].partition(".")
    if not ident.isdigit() or not hmac.compare_digest(mac, short_mac(kind, ident)):
        return None
    return int(ident)
