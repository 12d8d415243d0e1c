from __future__ import annotations

from email.message import EmailMessage

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from tidings.accounts.models import Account
from tidings.delivery.models import Delivery, Send
from tidings.lib.mail import POLICY


def send_message(
    msg: EmailMessage, recipients: list[str], *, account: Account | None = None
) -> Send:
    """Queue one finished message (a notice, a confirmation request) for the workers to send.

    account: whose message it is; one that fails is shown on that account's console home.
    """
    with transaction.atomic():
        send = Send.objects.create(
            kind=Send.NOTICE, message=msg.as_bytes(policy=POLICY), account=account
        )
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


class SendStateError(Exception):
    """The send is not in a state that allows this change."""


def pause_send(send: Send) -> None:
    """Stop handing out the send's rows; rows already on the wire finish normally."""
    if Send.objects.filter(pk=send.pk, state=Send.SENDING).update(state=Send.PAUSED) != 1:
        raise SendStateError(f"Send #{send.pk} is {send.state}, not sending.")
    send.state = Send.PAUSED


def resume_send(send: Send) -> None:
    """Let workers claim the send's remaining rows again, where it stopped."""
    if Send.objects.filter(pk=send.pk, state=Send.PAUSED).update(state=Send.SENDING) != 1:
        raise SendStateError(f"Send #{send.pk} is {send.state}, not paused.")
    send.state = Send.SENDING


def cancel_send(send: Send) -> int:
    """Cancel a send: nobody who has not been sent to yet will be; return how many rows that was."""
    with transaction.atomic():
        changed = Send.objects.filter(
            pk=send.pk, state__in=[Send.PREPARING, Send.SENDING, Send.PAUSED]
        ).update(state=Send.CANCELLED, finished_at=timezone.now())
        if changed != 1:
            raise SendStateError(f"Send #{send.pk} is {send.state}; it can no longer be cancelled.")
        # Rows on the wire right now (sending) keep their lease and get their real outcome.
        cancelled = send.deliveries.filter(
            state__in=[Delivery.QUEUED, Delivery.DEFERRED, Delivery.THROTTLED]
        ).update(state=Delivery.CANCELLED, last_reply="send cancelled")
    send.state = Send.CANCELLED
    return cancelled
