"""The delivery worker's step: claim a chunk of due rows, send them, record each outcome."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from email.utils import make_msgid

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tidings.bulletins.email import BulletinRenderer
from tidings.bulletins.models import Bulletin
from tidings.delivery.models import Delivery, Send
from tidings.delivery.smtp import Outcome, Outgoing, Relay, configured_relay, send_all
from tidings.inbound.addresses import verp_address
from tidings.subscribers.models import Subscriber

log = logging.getLogger("tidings.delivery")


def backoff(attempts: int) -> timedelta:
    """Return how long to wait before attempt number attempts+1: 1, 2, 4 … minutes, at most 6 h."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


def claim(limit: int, lease_seconds: int) -> list[Delivery]:
    """Lease up to limit due deliveries of running sends to this worker."""
    now = timezone.now()
    due = (
        Q(state=Delivery.QUEUED)
        | Q(state=Delivery.DEFERRED, next_attempt_at__lte=now)
        # A worker that died mid-chunk left its rows leased; take them back when it expires.
        | Q(state=Delivery.SENDING, lease_until__lt=now)
    )
    with transaction.atomic():
        ids = list(
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(due, send__state=Send.SENDING)
            .order_by("id")
            .values_list("id", flat=True)[:limit]
        )
        if not ids:
            return []
        Delivery.objects.filter(id__in=ids).update(
            state=Delivery.SENDING, lease_until=now + timedelta(seconds=lease_seconds)
        )
    return list(
        Delivery.objects.filter(id__in=ids)
        .select_related("send__bulletin__account", "send__mailing_list", "topic")
        .order_by("id")
    )


def _still_wanted(deliveries: list[Delivery]) -> set[int]:
    """Return the subscriber ids that may still get mail (unsubscribed since the snapshot: no)."""
    ids = {d.subscriber_id for d in deliveries if d.subscriber_id}
    return set(
        Subscriber.objects.filter(id__in=ids, status=Subscriber.CONFIRMED).values_list(
            "id", flat=True
        )
    )


def build(deliveries: list[Delivery]) -> tuple[list[Outgoing], list[Delivery]]:
    """Return the messages to send and the deliveries to cancel (recipient left meanwhile)."""
    renderers: dict[int, BulletinRenderer] = {}
    wanted = _still_wanted(deliveries)
    outgoing: list[Outgoing] = []
    cancelled: list[Delivery] = []
    for delivery in deliveries:
        send = delivery.send
        if send.kind == Send.BULLETIN:
            if delivery.subscriber_id not in wanted or delivery.topic is None:
                cancelled.append(delivery)
                continue
            assert send.bulletin is not None
            renderer = renderers.get(send.pk)
            if renderer is None:
                renderer = renderers[send.pk] = BulletinRenderer(send.bulletin)
            if not delivery.message_id:
                delivery.message_id = make_msgid(
                    f"b{send.pk}.{delivery.pk}", domain=settings.MAIL_DOMAIN
                )
                Delivery.objects.filter(pk=delivery.pk).update(message_id=delivery.message_id)
            msg = renderer.message_for(
                topic=delivery.topic,
                recipient=delivery.address,
                subscriber_id=delivery.subscriber_id,
                message_id=delivery.message_id,
            )
            data = msg.as_bytes()
        else:
            data = bytes(send.message or b"")
        outgoing.append(Outgoing(delivery.pk, verp_address(delivery.pk), delivery.address, data))
    return outgoing, cancelled


def record(deliveries: dict[int, Delivery], outcomes: list[Outcome]) -> None:
    """Store what the relay said for each delivery."""
    now = timezone.now()
    for outcome in outcomes:
        delivery = deliveries[outcome.key]
        update: dict[str, object] = {"last_reply": f"{outcome.code} {outcome.reply}".strip()[:2000]}
        attempts = delivery.attempts + 1
        update["attempts"] = attempts
        update["lease_until"] = None
        if outcome.ok:
            update |= {"state": Delivery.SENT, "sent_at": now}
        elif outcome.permanent or attempts >= settings.DELIVERY_MAX_ATTEMPTS:
            update |= {"state": Delivery.FAILED}
        else:
            update |= {"state": Delivery.DEFERRED, "next_attempt_at": now + backoff(attempts)}
        Delivery.objects.filter(pk=delivery.pk, state=Delivery.SENDING).update(**update)


def finish_sends() -> int:
    """Mark sends with no recipient left to try as done; return how many."""
    pending = [Delivery.QUEUED, Delivery.SENDING, Delivery.DEFERRED]
    done = list(
        Send.objects.filter(state=Send.SENDING)
        .exclude(deliveries__state__in=pending)
        .values_list("id", flat=True)
    )
    if done:
        now = timezone.now()
        with transaction.atomic():
            Send.objects.filter(id__in=done, state=Send.SENDING).update(
                state=Send.DONE, finished_at=now
            )
            Bulletin.objects.filter(sends__id__in=done, status=Bulletin.SENDING).update(
                status=Bulletin.SENT, sent_at=now
            )
    return len(done)


def process_chunk(relay: Relay | None = None) -> int:
    """Claim, send and record one chunk; return how many deliveries it handled."""
    deliveries = claim(settings.DELIVERY_CHUNK_SIZE, settings.DELIVERY_LEASE_SECONDS)
    if not deliveries:
        finish_sends()
        return 0
    outgoing, cancelled = build(deliveries)
    if cancelled:
        Delivery.objects.filter(id__in=[d.pk for d in cancelled], state=Delivery.SENDING).update(
            state=Delivery.CANCELLED,
            lease_until=None,
            last_reply="recipient unsubscribed before sending",
        )
    if outgoing:
        outcomes = asyncio.run(send_all(relay or configured_relay(), outgoing))
        record({d.pk: d for d in deliveries}, outcomes)
    finish_sends()
    return len(deliveries)


def step() -> bool:
    """Do one unit of background work: route one received message or send one chunk."""
    from tidings.inbound.router import route_one
    from tidings.ops.periodic import run_due

    return route_one() or process_chunk() > 0 or run_due()


def drain(limit: int = 10_000) -> int:
    """Run steps until there is nothing left to do right now; return how many ran."""
    for done in range(limit):
        if not step():
            return done
    return limit
