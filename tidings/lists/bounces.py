"""The list's bounce runner, as Mailman's: mail to <list>-bounces@ (and reports to a list
delivery's own return path) raises the failing member's bounce score; past the list's threshold
their delivery is disabled, they and the owners are told, and the member re-enables it with a
signed link.
"""

from __future__ import annotations

from email.message import EmailMessage, Message

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from flufl.bounce import all_failures

from tidings.lib.mail import header_addresses
from tidings.lists.membership import find_member
from tidings.lists.models import MailingList, Member
from tidings.lists.moderators import moderator_addresses
from tidings.lists.notices import send_notice
from tidings.lists.tokens import member_token
from tidings.subscribers.bounces import classify
from tidings.subscribers.models import BounceEvent

POINTS = {BounceEvent.PERMANENT: 1.0, BounceEvent.TEMPORARY: 0.5}


def failed_addresses(msg: Message) -> list[str]:
    """Return the addresses a report says failed: its DSN Final-Recipients, else flufl.bounce's."""
    found: list[str] = []
    for part in msg.walk():
        if part.get_content_type() == "message/delivery-status":
            payload = part.get_payload()
            blocks = payload if isinstance(payload, list) else []
            for block in blocks:
                if not isinstance(block, Message):
                    continue
                value = str(block.get("Final-Recipient", "") or block.get("Original-Recipient", ""))
                if ";" in value:
                    found.append(value.split(";", 1)[1].strip().strip("<>").lower())
    if not found:
        try:
            temporary, permanent = all_failures(msg)
        except Exception:  # a detector choking on odd input: nobody to score
            return []
        found = [a.decode("utf-8", "replace").lower() for a in temporary | permanent]
    return list(dict.fromkeys(a for a in found if "@" in a))


def reenable_url(member: Member) -> str:
    token = member_token(member.mailing_list_id, member.address)
    return settings.BASE_URL + reverse("lists:reenable", args=[member.mailing_list.name, token])


def score_bounce(member: Member, kind: str) -> str:
    """Count one bounce against a member (once a day at most); disable past the threshold."""
    points = POINTS.get(kind)
    if points is None:
        return f"{member.address}: {kind}, not scored"
    today = timezone.localdate()
    with transaction.atomic():
        locked = Member.objects.select_for_update().select_related("mailing_list").get(pk=member.pk)
        if locked.last_bounce_on == today:
            return f"{locked.address}: already scored today ({locked.bounce_score:g})"
        locked.bounce_score += points
        locked.last_bounce_on = today
        mailing_list = locked.mailing_list
        disable = (
            not locked.disabled_by_bounces
            and locked.bounce_score >= mailing_list.bounce_score_threshold
        )
        if disable:
            locked.disabled_by_bounces = True
        locked.save(update_fields=["bounce_score", "last_bounce_on", "disabled_by_bounces"])
        if not disable:
            return f"{locked.address}: bounce score {locked.bounce_score:g}"
        context = {
            "member": locked,
            "score": f"{locked.bounce_score:g}",
            "threshold": f"{mailing_list.bounce_score_threshold:g}",
            "reenable_url": reenable_url(locked),
        }
        send_notice(mailing_list, [locked.address], "bounce_disabled", context)
        send_notice(mailing_list, moderator_addresses(mailing_list), "bounce_owner", context)
    return f"{locked.address}: bounce score {locked.bounce_score:g}: delivery disabled"


def process_list_bounce(mailing_list: MailingList, msg: EmailMessage) -> str:
    """Handle a report sent to <list>-bounces@: score each member it names."""
    verdict = classify(msg)
    if verdict.kind not in POINTS:
        return f"not a failure report ({verdict.reason})"
    notes = []
    for address in failed_addresses(msg) or header_addresses(
        [str(msg.get("X-Failed-Recipients", ""))]
    ):
        member = find_member(mailing_list, address)
        notes.append(score_bounce(member, verdict.kind) if member else f"{address}: not a member")
    return "; ".join(notes) or f"{verdict.kind}, but no failed address found"


def reenable(member: Member) -> None:
    """Deliver to the member again, their bounce score cleared."""
    Member.objects.filter(pk=member.pk).update(
        disabled_by_bounces=False, bounce_score=0, last_bounce_on=None
    )
