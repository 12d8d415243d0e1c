"""The addresses a list answers to on the lists domain, read for the inbound router and RCPT."""

from __future__ import annotations

import contextlib

from tidings.inbound.addresses import Destination, reads
from tidings.lib.tokens import BadToken
from tidings.lists.models import MailingList
from tidings.lists.tokens import read_confirm_token

LIST = "list"
LIST_BOUNCES = "list-bounces"
# Membership commands: {list}-join@, {list}-leave@, {list}-request@ and the confirmation
# replies {list}-confirm+{code}@.
LIST_JOIN = "list-join"
LIST_LEAVE = "list-leave"
LIST_REQUEST = "list-request"
LIST_CONFIRM = "list-confirm"
LIST_SUFFIXES = {
    "-bounces": LIST_BOUNCES,
    "-join": LIST_JOIN,
    "-leave": LIST_LEAVE,
    "-request": LIST_REQUEST,
}


def _candidates(local: str) -> list[tuple[str, str, int | None]]:
    """Return the (list name, kind, request id) a list-domain local part could mean, best first."""
    lower = local.lower()
    candidates: list[tuple[str, str, int | None]] = [(lower, LIST, None)]
    for suffix, kind in LIST_SUFFIXES.items():
        if lower.endswith(suffix):
            candidates.append((lower.removesuffix(suffix), kind, None))
    name, plus, code = lower.partition("-confirm+")
    if plus:
        # A forged or damaged code: nothing answers, so RCPT refuses it.
        with contextlib.suppress(BadToken):
            candidates.append((name, LIST_CONFIRM, read_confirm_token(code)))
    return candidates


@reads("lists")
def list_address(local: str, address: str) -> Destination | None:
    candidates = _candidates(local)
    names = {name for name, _, _ in candidates}
    # One query for every reading; a list literally named "x-join" wins over x's join address.
    found = {m.name: m for m in MailingList.objects.filter(name__in=names)}
    for name, kind, ident in candidates:
        if name in found:
            return Destination(kind, address, target=found[name], ident=ident)
    return None
