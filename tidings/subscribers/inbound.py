"""What the subscribers app does with mail to its addresses: unsubscribe requests and bounces.

Registered with the inbound router (inbound.router.handles) when the app is ready.
"""

from __future__ import annotations

from email.message import EmailMessage

from tidings.delivery.verp import BOUNCE
from tidings.inbound.addresses import Destination
from tidings.inbound.models import InboundMessage
from tidings.inbound.router import handles
from tidings.subscribers.actions import unsubscribe_all
from tidings.subscribers.addresses import UNSUBSCRIBE
from tidings.subscribers.bounces import process_bounce
from tidings.subscribers.models import Subscriber


@handles(UNSUBSCRIBE)
def unsubscribe(message: InboundMessage, msg: EmailMessage, dest: Destination) -> str:
    subscriber = Subscriber.objects.filter(pk=dest.ident or 0).first()
    if subscriber is not None:
        unsubscribe_all(subscriber)
    return f"unsubscribed subscriber #{dest.ident}"


@handles(BOUNCE)
def bounce(message: InboundMessage, msg: EmailMessage, dest: Destination) -> str:
    return process_bounce(message, msg, dest.ident or 0)
