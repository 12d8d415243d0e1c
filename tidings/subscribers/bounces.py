"""Bounces and complaints sent to the VERP return path: classify each, then decide and record.

A permanent failure suppresses the address for every account at once; temporary failures count
toward a threshold within a window; an ARF complaint unsubscribes from the account. Auto-replies,
delivery-success notices and anything else that is not a failure report change nothing.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage, Message

from django.conf import settings
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone
from flufl.bounce import all_failures

from tidings.delivery.models import Delivery
from tidings.delivery.signals import refused
from tidings.inbound.models import InboundMessage
from tidings.subscribers import actions
from tidings.subscribers.models import BounceEvent, Subscriber, Suppression
from tidings.subscribers.signals import delivery_bounced

log = logging.getLogger("tidings.bounces")

ENHANCED_STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
SMTP_REPLY = re.compile(r"(?<![\d.-])([45])[0-9]{2}[ -](?=\S)")
BOUNCE_SENDER = re.compile(r"mailer-daemon|postmaster|mail delivery", re.IGNORECASE)
BOUNCE_SUBJECT = re.compile(
    r"undeliver|delivery (status )?notification|delivery (has )?failed|failure notice|"
    r"returned mail|mail delivery|could not be delivered|non.?delivery|delivery failure|"
    r"rejected|not delivered|bounce",
    re.IGNORECASE,
)
# When a report gives no code at all, its wording is the only clue.
TEMPORARY_WORDING = re.compile(
    r"retry timeout exceeded|mailbox (is )?full|over quota|quota exceeded|try again later",
    re.IGNORECASE,
)
PERMANENT_WORDING = re.compile(
    r"user unknown|unknown user|no such (user|mailbox|recipient)|no valid recipients|"
    r"does not exist|invalid recipient|address rejected|account (has been )?disabled",
    re.IGNORECASE,
)
AUTO_REPLY_SUBJECT = re.compile(
    r"^(auto(matic)?[ -]?reply|out of (the )?office|away|vacation|abwesend)", re.IGNORECASE
)


@dataclass(frozen=True)
class Verdict:
    kind: str  # one of BounceEvent.KINDS
    status: str  # DSN status such as 5.1.1, when one was found
    reason: str  # how the message was classified


def _text(part: Message) -> str:
    """Return a part's text however it is encoded or nested, never raising."""
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # damaged transfer encoding: fall back to the raw payload
        payload = None
    if isinstance(payload, bytes):
        return payload.decode("utf-8", "replace")
    try:
        return part.as_string()
    except Exception:
        return str(part.get_payload())


def _report_parts(msg: Message, subtype: str) -> list[Message]:
    return [p for p in msg.walk() if p.get_content_type() == f"message/{subtype}"]


def _complaint(msg: Message) -> Verdict | None:
    """Return a complaint verdict for an ARF (RFC 5965) feedback report."""
    parts = _report_parts(msg, "feedback-report")
    is_report = msg.get_content_type() == "multipart/report"
    if not parts and not (is_report and msg.get_param("report-type") == "feedback-report"):
        return None
    text = "\n".join(_text(p) for p in parts)
    found = re.search(r"Feedback-Type:\s*([\w-]+)", text, re.IGNORECASE)
    kind = found.group(1).lower() if found else "unknown"
    return Verdict(BounceEvent.COMPLAINT, "", f"ARF feedback report (Feedback-Type: {kind})")


def _dsn_fields(part: Message) -> list[dict[str, str]]:
    """Return the per-recipient fields of a message/delivery-status part."""
    blocks = part.get_payload()
    if isinstance(blocks, list):
        texts = [b.as_string() if isinstance(b, Message) else str(b) for b in blocks]
    else:
        texts = re.split(r"\r?\n\r?\n", _text(part))
    fields = []
    for text in texts:
        block = {}
        for name, value in re.findall(r"^([A-Za-z-]+):[ \t]*(.*)$", text, re.MULTILINE):
            block[name.lower()] = value.strip()
        if "action" in block or "status" in block:
            fields.append(block)
    return fields


def _from_dsn(msg: Message) -> Verdict | None:
    """Return the verdict of an RFC 3464 delivery status notification, if the message has one."""
    recipients = [f for part in _report_parts(msg, "delivery-status") for f in _dsn_fields(part)]
    if not recipients:
        return None
    permanent, temporary, success = [], [], []
    for fields in recipients:
        action = fields.get("action", "").lower()
        found = ENHANCED_STATUS.search(fields.get("status", ""))
        status = ".".join(found.groups()) if found else ""
        if action in ("delivered", "relayed", "expanded") or status.startswith("2"):
            success.append(status or action)
        elif action == "delayed" or status.startswith("4"):
            temporary.append(status or action)
        elif action == "failed" or status.startswith("5"):
            permanent.append(status or action)
    if permanent:
        return Verdict(BounceEvent.PERMANENT, permanent[0], "DSN: permanent failure")
    if temporary:
        return Verdict(BounceEvent.TEMPORARY, temporary[0], "DSN: temporary failure or delay")
    if success:
        return Verdict(BounceEvent.IGNORED, success[0], "DSN: a success notice, not a failure")
    return None


def _codes(msg: Message) -> tuple[set[str], set[str], str]:
    """Return the enhanced status codes, SMTP reply classes and the text of the report."""
    texts = []
    for part in msg.walk():
        if part.get_content_maintype() == "text":
            texts.append(_text(part))
        if part.get_content_type() == "message/rfc822":
            break  # the returned original message says nothing about the failure
    text = "\n".join(texts)
    enhanced = {".".join(m.groups()) for m in ENHANCED_STATUS.finditer(text)}
    replies = {m.group(1) for m in SMTP_REPLY.finditer(text)}
    return enhanced, replies, text


def _looks_like_bounce(msg: Message) -> bool:
    return bool(
        BOUNCE_SENDER.search(str(msg.get("From", "")))
        or BOUNCE_SUBJECT.search(str(msg.get("Subject", "")))
    )


def _is_auto_reply(msg: Message) -> bool:
    auto = str(msg.get("Auto-Submitted", "")).lower()
    return (
        auto.startswith("auto-replied")
        or bool(msg.get("X-Autoreply") or msg.get("X-Autorespond"))
        or bool(AUTO_REPLY_SUBJECT.search(str(msg.get("Subject", ""))))
    ) and not BOUNCE_SENDER.search(str(msg.get("From", "")))


def classify(msg: Message) -> Verdict:
    """Return whether a message is a permanent or temporary failure, a complaint, or neither."""
    complaint = _complaint(msg)
    if complaint is not None:
        return complaint
    dsn = _from_dsn(msg)
    if dsn is not None:
        return dsn
    if _is_auto_reply(msg):
        return Verdict(BounceEvent.IGNORED, "", "an auto-reply, not a bounce")
    try:
        temporary, permanent = all_failures(msg)
    except Exception as exc:  # a detector choking on odd input must not stop the router
        log.warning("flufl.bounce failed: %s", exc)
        temporary, permanent = frozenset(), frozenset()
    enhanced, replies, text = _codes(msg)
    classes = {code[0] for code in enhanced} or replies
    status = sorted(enhanced, reverse=True)[0] if enhanced else ""
    if not (temporary or permanent) and not _looks_like_bounce(msg):
        return Verdict(BounceEvent.IGNORED, "", "no failure report found: not a bounce")
    if classes == {"2"}:
        return Verdict(BounceEvent.IGNORED, status, "a success notice, not a failure")
    if not classes and permanent:
        # A classic report with no status code (qmail, Exim, Yahoo, GroupWise…) that a
        # flufl.bounce detector reads as permanent is permanent, as Mailman counts it: such
        # reports are final ("retry timeout exceeded", "I'm not going to try again"), whatever
        # other wording they carry.
        return Verdict(BounceEvent.PERMANENT, "", "permanent failure (flufl.bounce detector)")
    if not classes and TEMPORARY_WORDING.search(text):
        return Verdict(BounceEvent.TEMPORARY, "", "temporary failure (by its wording)")
    if not classes and PERMANENT_WORDING.search(text):
        return Verdict(BounceEvent.PERMANENT, "", "permanent failure (by its wording)")
    # Detectors report 'failed' mail as permanent even when the code says it was temporary.
    if "5" in classes or (permanent and "4" not in classes):
        found = [c for c in enhanced if c.startswith("5")]
        return Verdict(BounceEvent.PERMANENT, found[0] if found else status, "permanent failure")
    return Verdict(BounceEvent.TEMPORARY, status, "temporary failure (or no code given)")


def process_bounce(message: InboundMessage, msg: EmailMessage, delivery_id: int) -> str:
    """Classify a report to a VERP address, act on its delivery's subscriber, record it."""
    verdict = classify(msg)
    delivery = Delivery.objects.select_related("subscriber__account").filter(pk=delivery_id).first()
    subscriber = delivery.subscriber if delivery else None
    email = subscriber.email if subscriber else (delivery.address if delivery else "")
    event = BounceEvent(
        account=subscriber.account if subscriber else None,
        subscriber=subscriber,
        delivery=delivery,
        inbound=message,
        email=email,
        kind=verdict.kind,
        status=verdict.status,
        reason=verdict.reason,
    )
    with transaction.atomic():
        event.decision, why = _decide(event, subscriber)
        event.reason = f"{verdict.reason}; {why}"
        event.save()
    if delivery is not None and subscriber is None:
        told = delivery_bounced.send(sender=process_bounce, delivery=delivery, kind=verdict.kind)
        why += "".join(f"; {note}" for _, note in told if note)
    return f"{verdict.kind} for delivery #{delivery_id} ({email or 'unknown'}): {why}"


def _decide(event: BounceEvent, subscriber: Subscriber | None) -> tuple[str, str]:
    """Return the decision for a classified report and why."""
    if event.kind == BounceEvent.IGNORED:
        return BounceEvent.NOTHING, "nothing done"
    if not event.email:
        return BounceEvent.NOTHING, "the delivery no longer exists"
    if event.kind == BounceEvent.PERMANENT:
        actions.suppress(None, event.email, Suppression.HARD_BOUNCE, f"status {event.status}")
        return BounceEvent.SUPPRESSED, "address suppressed for every account"
    if event.kind == BounceEvent.COMPLAINT:
        if subscriber is None:
            return BounceEvent.NOTHING, "no subscriber to unsubscribe"
        actions.unsubscribe_all(subscriber)
        actions.suppress(subscriber.account, event.email, Suppression.COMPLAINT)
        return BounceEvent.UNSUBSCRIBED, "unsubscribed and suppressed for the account"
    since = timezone.now() - timedelta(days=settings.BOUNCE_SOFT_WINDOW_DAYS)
    earlier = BounceEvent.objects.filter(
        email=event.email, kind=BounceEvent.TEMPORARY, created__gte=since
    ).count()
    score, threshold = earlier + 1, settings.BOUNCE_SOFT_THRESHOLD
    if score >= threshold:
        note = f"{score} temporary failures in {settings.BOUNCE_SOFT_WINDOW_DAYS} days"
        actions.suppress(None, event.email, Suppression.SOFT_BOUNCES, note)
        return BounceEvent.SUPPRESSED, f"{note}: reached {threshold}, address suppressed"
    return BounceEvent.SCORED, f"score {score} of {threshold}"


# Enhanced status codes that say the address itself is bad (RFC 3463: 5.1.x addressing,
# 5.2.1 mailbox disabled); other refusals (content, size, policy) say nothing about it.
BAD_ADDRESS = re.compile(r"\b5\.(1\.\d+|2\.1)\b")


def record_refusal(delivery_id: int, code: int, reply: str) -> BounceEvent:
    """Record a relay's 5xx refusal of a delivery; suppress the address if the reply blames it."""
    delivery = Delivery.objects.select_related("subscriber__account").filter(pk=delivery_id).first()
    subscriber = delivery.subscriber if delivery else None
    email = delivery.address if delivery else ""
    match = BAD_ADDRESS.search(reply)
    event = BounceEvent(
        account=subscriber.account if subscriber else None,
        subscriber=subscriber,
        delivery=delivery,
        email=email,
        kind=BounceEvent.PERMANENT,
        status=match.group(0) if match else str(code),
        reason=f"refused while sending: {code} {reply}"[:500],
    )
    with transaction.atomic():
        if match and email:
            actions.suppress(None, email, Suppression.HARD_BOUNCE, f"status {event.status}")
            event.decision = BounceEvent.SUPPRESSED
            event.reason += "; address suppressed for every account"
        else:
            event.decision = BounceEvent.NOTHING
            event.reason += "; not about the address, nothing suppressed"
        event.save()
    return event


@receiver(refused)
def refused_while_sending(
    sender: object, delivery_id: int, code: int, reply: str, **kwargs: object
) -> None:
    record_refusal(delivery_id, code, reply)
