from __future__ import annotations

from email.parser import BytesHeaderParser
from email.policy import default

from django.db import transaction

from tidings.inbound.models import InboundMessage


def _subject(raw: bytes) -> str:
    try:
        headers = BytesHeaderParser(policy=default).parsebytes(raw)
        return str(headers.get("Subject", ""))[:500]
    except Exception:  # a damaged header must not stop the message from being stored
        return ""


def store_message(
    raw: bytes,
    *,
    mail_from: str,
    local_rcpts: list[str],
    captured_rcpts: list[str],
    peer: str = "",
    helo: str = "",
) -> InboundMessage:
    """Store a received message durably; the SMTP server answers 250 only after this returns."""
    with transaction.atomic():
        return InboundMessage.objects.create(
            raw=raw,
            size=len(raw),
            mail_from=mail_from,
            local_rcpts=local_rcpts,
            captured_rcpts=captured_rcpts,
            captured=bool(captured_rcpts),
            # Captured mail has nothing left to route unless a local recipient came with it.
            state=InboundMessage.NEW if local_rcpts else InboundMessage.DONE,
            peer=peer,
            helo=helo,
            subject=_subject(raw),
        )
