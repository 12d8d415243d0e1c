"""The router's step: take one stored message and hand it to whatever its recipients are."""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable
from datetime import timedelta
from email import message_from_bytes
from email.errors import MissingHeaderBodySeparatorDefect
from email.message import EmailMessage

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from tidings.inbound import addresses
from tidings.inbound.models import InboundMessage
from tidings.lib import pagecache
from tidings.lib.mail import POLICY as MAIL_POLICY

log = logging.getLogger("tidings.router")

LEASE = timedelta(minutes=5)
# How long a message that met a passing error (the database or the cache away) waits.
RETRY = timedelta(seconds=15)

MULTIPART_HEADER = re.compile(rb"^content-type:[ \t]*multipart/", re.IGNORECASE | re.MULTILINE)


def mime_shape(msg: EmailMessage) -> tuple[int, int]:
    """Return the depth of the MIME tree and its number of parts, without recursion."""
    depth, parts = 0, 0
    stack: list[tuple[object, int]] = [(msg, 1)]
    while stack:
        part, level = stack.pop()
        parts += 1
        depth = max(depth, level)
        payload = part.get_payload() if isinstance(part, EmailMessage) else None
        if isinstance(payload, list):
            stack.extend((child, level + 1) for child in payload)
    return depth, parts


def too_complex(raw: bytes, msg: EmailMessage | None = None) -> str:
    """Return why a message's MIME structure is beyond what the lists handle, or ""."""
    multiparts = len(MULTIPART_HEADER.findall(raw))
    if multiparts > settings.LIST_MAX_MULTIPARTS:
        return (
            f"too complex: {multiparts} multipart sections (limit {settings.LIST_MAX_MULTIPARTS})"
        )
    if msg is None:
        return ""
    depth, parts = mime_shape(msg)
    if depth > settings.LIST_MAX_MIME_DEPTH:
        return f"too complex: MIME parts nested {depth} deep (limit {settings.LIST_MAX_MIME_DEPTH})"
    if parts > settings.LIST_MAX_MIME_PARTS:
        return f"too complex: {parts} MIME parts (limit {settings.LIST_MAX_MIME_PARTS})"
    return ""


PARSE_POLICY = MAIL_POLICY.clone(linesep="\n")


def parse(raw: bytes) -> tuple[EmailMessage | None, str]:
    """Return the parsed message, or None and the reason it can't be handled."""
    if not raw.strip():
        return None, "empty message"
    problem = too_complex(raw)
    if problem:  # not even parsed: deep nesting costs the parser time and recursion
        return None, problem
    try:
        # Tidings' own policy: what the relay re-encodes (a footer) keeps its 76-character lines.
        msg = message_from_bytes(raw, policy=PARSE_POLICY)
    except Exception as exc:  # the parser is lenient; anything it raises means garbage
        return None, f"unparseable: {exc}"
    assert isinstance(msg, EmailMessage)
    problem = too_complex(b"", msg)
    if problem:
        return None, problem
    if any(isinstance(d, MissingHeaderBodySeparatorDefect) for d in msg.defects):
        return None, "no header/body separator: the headers are damaged"
    try:
        str(msg.get("From", ""))
        str(msg.get("Subject", ""))
    except Exception as exc:
        return None, f"undecodable header: {exc}"
    return msg, ""


def claim() -> InboundMessage | None:
    now = timezone.now()
    with transaction.atomic():
        candidate = (
            InboundMessage.objects.select_for_update(skip_locked=True)
            .filter(state__in=[InboundMessage.NEW, InboundMessage.ROUTING])
            # Held: being routed, or waiting to be tried again after a passing error.
            .exclude(lease_until__gte=now)
            .order_by("id")
            .only("id")
            .first()
        )
        if candidate is None:
            return None
        InboundMessage.objects.filter(pk=candidate.pk).update(
            state=InboundMessage.ROUTING, lease_until=now + LEASE
        )
    return InboundMessage.objects.get(pk=candidate.pk)


# How each kind of destination handles a message: (stored message, parsed copy, destination) ->
# a note of what was done. Apps register from their AppConfig.ready() with @handles(kind).
Handler = Callable[[InboundMessage, EmailMessage, addresses.Destination], str]
# What a destination does with a message that can't be parsed (a list holds it as malformed).
MalformedHandler = Callable[[InboundMessage, addresses.Destination, str], None]

HANDLERS: dict[str, Handler] = {}
MALFORMED: dict[str, MalformedHandler] = {}


def handles(
    kind: str, *, malformed: MalformedHandler | None = None
) -> Callable[[Handler], Handler]:
    """Register the handler of one kind of destination (and what it does with garbage)."""

    def register(handler: Handler) -> Handler:
        HANDLERS[kind] = handler
        if malformed is not None:
            MALFORMED[kind] = malformed
        return handler

    return register


def route(message: InboundMessage) -> tuple[str, list[str]]:
    """Route a claimed message; return its final state and what was done."""
    msg, problem = parse(bytes(message.raw))
    if msg is None:
        for rcpt in message.local_rcpts:
            dest = addresses.resolve(rcpt)
            if dest is not None and dest.kind in MALFORMED:
                MALFORMED[dest.kind](message, dest, problem)
        return InboundMessage.MALFORMED, [problem]
    done: dict[str, str] = dict(message.routed_rcpts or {})
    for rcpt in message.local_rcpts:
        if rcpt in done:  # handled before a passing error stopped an earlier try
            continue
        dest = addresses.resolve(rcpt)
        if dest is None:
            done[rcpt] = "nothing answers to this address any more"
        elif dest.kind in HANDLERS:
            done[rcpt] = HANDLERS[dest.kind](message, msg, dest)
            if len(message.local_rcpts) > 1:  # the others may still meet a passing error
                InboundMessage.objects.filter(pk=message.pk).update(routed_rcpts=done)
        else:
            done[rcpt] = f"{dest.kind} message kept, nothing handles it"
    message.routed_rcpts = done
    return InboundMessage.DONE, [f"{rcpt}: {note}" for rcpt, note in done.items()]


def temporary(error: BaseException) -> bool:
    """Whether an error may pass on its own (a database or cache away, a network timeout), in
    it or in what caused it: the message is then routed again later, never dead-lettered."""
    seen: BaseException | None = error
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, OperationalError | InterfaceError | OSError) or (
            type(seen).__module__.startswith("redis.")
            and type(seen).__name__ in ("ConnectionError", "TimeoutError", "BusyLoadingError")
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def route_one() -> bool:
    """Route the oldest waiting message; return False when there was none."""
    pagecache.settle()  # make the page bumps the cache missed, once it answers again
    message = claim()
    if message is None:
        return False
    lease_until = None
    try:
        state, notes = route(message)
    except Exception as error:
        if temporary(error):
            # Waits RETRY, then is routed again (health's queue check sees it wait).
            log.warning("routing message #%s met a passing error, retried: %s", message.pk, error)
            state, lease_until = InboundMessage.NEW, timezone.now() + RETRY
        else:
            # Dead letter: kept with the reason, never lost, never blocking the queue.
            log.exception("routing message #%s failed", message.pk)
            state = InboundMessage.FAILED
        notes = [traceback.format_exc(limit=5)]
    InboundMessage.objects.filter(pk=message.pk).update(
        state=state, lease_until=lease_until, notes="\n".join(notes)[:10000]
    )
    return True
