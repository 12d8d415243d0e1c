"""The one signed token per recipient that every tracked link and the open image carry."""

from __future__ import annotations

import hmac

from tidings.lib.tokens import BadToken, short_mac

# 64 bits of MAC: guessing one recipient's token online is out of reach, and the token stays
# short enough for a link. It does not expire: links in old mail keep working.
MAC_LENGTH = 16


def recipient_token(delivery_id: int) -> str:
    """Return DELIVERY-MAC for one delivery: one HMAC, made once per recipient at send time."""
    return f"{delivery_id}-{short_mac('tracking', str(delivery_id), MAC_LENGTH)}"


def read_recipient_token(token: str) -> int:
    """Return the delivery id in a token from recipient_token(); raise BadToken."""
    ident, _, mac = token.partition("-")
    if not (ident.isdigit() and len(ident) < 19 and len(mac) == MAC_LENGTH):
        raise BadToken("This link is not valid.")
    if not hmac.compare_digest(short_mac("tracking", ident, MAC_LENGTH), mac):
        raise BadToken("This link is not valid.")
    return int(ident)
