"""Signed tokens of the lists: confirmation codes (in links and reply addresses) and members'
one-click unsubscribe tokens."""

from __future__ import annotations

import hmac

from django.utils.translation import gettext

from tidings.lib.tokens import BadToken, make_token, read_token, short_mac

CONFIRM = "lists.confirm"
MEMBER = "lists.member"
# Unsubscribe links in relayed posts keep working for years, like the posts themselves.
MEMBER_MAX_AGE = 10 * 365 * 86400


def confirm_token(request_id: int) -> str:
    """Return the code that confirms a membership request: lowercase, fit for a local part."""
    ident = str(request_id)
    return f"{ident}.{short_mac(CONFIRM, ident, 16)}"


def read_confirm_token(token: str) -> int:
    """Return the request id in a confirmation code, or raise BadToken."""
    ident, _, mac = token.lower().partition(".")
    if not ident.isdigit() or not hmac.compare_digest(mac, short_mac(CONFIRM, ident, 16)):
        raise BadToken(gettext("This link is not valid."))
    return int(ident)


def member_token(list_id: int, address: str) -> str:
    """Return the signed token of a member's one-click unsubscribe link."""
    return make_token(MEMBER, [list_id, address.lower()])


def read_member_token(token: str) -> tuple[int, str]:
    value = read_token(MEMBER, token, MEMBER_MAX_AGE)
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], int)):
        raise BadToken(gettext("This link is not valid."))
    return value[0], str(value[1])
