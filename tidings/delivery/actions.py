from __future__ import annotations

from email.message import EmailMessage

from django.db import transaction
from django.db.models import Count

from tidings.bulletins.email import POLICY
from tidings.delivery.models import Delivery, Send


def send_message(msg: EmailMessage, recipients: list[str]) -> Send:
    """Queue one finished message (a notice, a confirmation request) for the workers to send."""
    with transaction.atomic():
        send = Send.objects.create(kind=Send.NOTICE, message=msg.as_bytes(policy=POLICY))
        Delivery.objects.bulk_create(
            Delivery(send=send, address=address, message_id=str(msg.get("Message-ID", "")))
            for address in dict.fromkeys(recipients)
        )
    return send


def send_counts(send: Send) -> dict[str, int]:
    """Return how many of a send's recipients are in each state."""
    counts = {state: 0 for state, _ in Delivery.STATES}
    rows = send.deliveries.values("state").annotate(n=Count("id")).order_by()
    for row in rows:
        counts[row["state"]] = row["n"]
    counts["total"] = sum(counts[state] for state, _ in Delivery.STATES)
    return counts
