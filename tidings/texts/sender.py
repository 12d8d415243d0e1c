"""The texts role: claim a chunk of text rows, send them through the gateway, record outcomes.

The same ledger as email (delivery.worker: range leases, retries with backoff, pause, resume,
cancel, progress), another wire: each row's text is split into segments and submitted through
the SMS gateway, several in flight at once. Between chunks the role listens on the gateway's
session for texts from phones (keywords) and delivery receipts.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import transaction

from tidings.delivery.compose import Row
from tidings.delivery.models import Send
from tidings.delivery.worker import Composers, claim, finish_sends, prepare_claimed, record
from tidings.texts.actions import handle_text, record_receipts
from tidings.texts.compose import TextComposer
from tidings.texts.gateways import Gateway, TextOut, configured_gateway
from tidings.texts.models import TextPart

log = logging.getLogger("tidings.texts")


def keep_text(source: str, destination: str, text: str) -> None:
    """A text from a phone: acted on (and kept) before the SMSC is told it arrived."""
    with transaction.atomic():
        handle_text(source, destination, text)


class TextSender:
    def __init__(self, gateway: Gateway | None = None, idle: float = 0.5) -> None:
        self.gateway = gateway or configured_gateway(on_text=keep_text)
        self.idle = idle
        self.composers = Composers()
        self.quiet_until = 0.0

    def wrap(self, row: Row, data: bytes) -> TextOut:
        composer = self.composers.sends[row.send_id]
        source = composer.source if isinstance(composer, TextComposer) else ""
        return TextOut(row.id, row.address, data.decode(), source)

    def step(self) -> bool:
        """Send one chunk, or listen a moment when none is due; return whether work was done."""
        claimed = claim(
            settings.DELIVERY_CHUNK_SIZE, settings.DELIVERY_LEASE_SECONDS, channel=Send.TEXT
        )
        chunk = prepare_claimed(claimed, self.composers, self.wrap)
        if chunk.outgoing:
            sent = self.gateway.send(chunk.outgoing)
            with transaction.atomic():
                record(chunk, sent.outcomes)
                TextPart.objects.bulk_create(
                    TextPart(delivery_id=key, message_id=message_id[:65])
                    for key, message_id in sent.parts
                )
        self.keep_receipts()
        if chunk.claimed:
            return True
        finish_sends()
        if time.monotonic() >= self.quiet_until:
            self.gateway.poll(self.idle)
            self.keep_receipts()
        return False

    def keep_receipts(self) -> None:
        receipts, self.gateway.receipts = self.gateway.receipts, []
        if receipts:
            record_receipts(receipts)

    def close(self) -> None:
        self.gateway.close()
