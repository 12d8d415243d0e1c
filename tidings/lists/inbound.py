"""What a list does with mail to its addresses: posts, membership commands, bounce reports.

Registered with the inbound router (inbound.router.handles) when the app is ready.
"""

from __future__ import annotations

from email.message import EmailMessage

from django.dispatch import receiver

from tidings.delivery.models import Delivery
from tidings.inbound.addresses import Destination
from tidings.inbound.models import InboundMessage
from tidings.inbound.router import handles, parse
from tidings.lists import addresses, membership
from tidings.lists.bounces import process_list_bounce, score_bounce
from tidings.lists.models import MailingList
from tidings.lists.relay import hold_malformed, receive_post
from tidings.subscribers.signals import delivery_bounced

# The list addresses that take membership commands, and the command each stands for.
COMMANDS = {
    addresses.LIST_JOIN: "join",
    addresses.LIST_LEAVE: "leave",
    addresses.LIST_REQUEST: "request",
}


def hold(message: InboundMessage, dest: Destination, problem: str) -> None:
    hold_malformed(dest.target, message, problem)


@handles(addresses.LIST, malformed=hold)
def post(message: InboundMessage, msg: EmailMessage, dest: Destination) -> str:
    if not msg.get_all("From"):
        # Bounces may lack a From; a post to a list may not.
        hold_malformed(dest.target, message, "no From header")
        return "held: no From header"
    fresh, _ = parse(bytes(message.raw))  # each list changes its own copy
    assert fresh is not None
    decision = receive_post(dest.target, message, fresh)
    return f"{decision.status} ({decision.rule}) {decision.reason}"


def command(message: InboundMessage, msg: EmailMessage, dest: Destination) -> str:
    return membership.handle_command(dest.target, COMMANDS[dest.kind], msg, message.mail_from)


for kind in COMMANDS:
    handles(kind)(command)


@handles(addresses.LIST_CONFIRM)
def confirm(message: InboundMessage, msg: EmailMessage, dest: Destination) -> str:
    if membership.wants_no_reply(msg, message.mail_from):
        # An autoresponder answering the confirmation must not confirm it.
        return "ignored: automatic mail or a null sender"
    return membership.confirm_by_mail(dest.target, dest.ident or 0)


@handles(addresses.LIST_BOUNCES)
def bounce(message: InboundMessage, msg: EmailMessage, dest: Destination) -> str:
    return process_list_bounce(dest.target, msg)


@receiver(delivery_bounced)
def member_bounced(sender: object, delivery: Delivery, kind: str, **kwargs: object) -> str:
    """A report to a list delivery's return path counts against the member, as mail to
    -bounces@ does."""
    mailing_list = MailingList.objects.filter(sends__deliveries=delivery).first()
    member = membership.find_member(mailing_list, delivery.address) if mailing_list else None
    return f"list member {score_bounce(member, kind)}" if member else ""
