"""What a list does with a post: decide by its rules, then relay it and archive it."""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import format_datetime

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from tidings.delivery.models import Delivery, Send
from tidings.inbound.models import InboundMessage
from tidings.lib.mail import POLICY, list_id_header
from tidings.lists import arc, dmarc
from tidings.lists.attachments import strip_attachments
from tidings.lists.authenticity import Authentication, authenticate
from tidings.lists.models import ListMessage, MailingList, Member
from tidings.lists.moderators import notify_moderators
from tidings.lists.poster import tell_held
from tidings.lists.rules import Decision, from_addresses, run_chain, sender_candidates
from tidings.lists.signals import post_accepted
from tidings.lists.tokens import member_token

# Headers a relayed message must not carry over: the list sets its own, and signatures break
# once the subject and body change.
REPLACED_HEADERS = (
    "List-Id", "List-Post", "List-Help", "List-Subscribe", "List-Unsubscribe",
    "List-Unsubscribe-Post", "List-Archive", "List-Owner", "Archived-At", "Precedence",
    "Return-Path", "DKIM-Signature", "Errors-To",
)  # fmt: skip


# Rules that accept a post because of who it says it is from.
BY_IDENTITY = ("accept-list", "posting-policy")


def decide(
    mailing_list: MailingList,
    msg: EmailMessage,
    mail_from: str,
    authentication: Authentication | None = None,
) -> Decision:
    """Run the list's moderation chain (lists.rules); the first rule that decides says why.

    On a list whose senders must be authenticated, a post accepted for its From (accept-list,
    membership) is held unless DKIM, SPF or Tidings' own return path vouches for that From.
    """
    decision = run_chain(mailing_list, msg, mail_from)
    needs_proof = (
        mailing_list.require_sender_authentication
        and mailing_list.posting_policy != MailingList.OPEN_POSTING
        and decision.status == ListMessage.ACCEPTED
        and decision.rule in BY_IDENTITY
    )
    if not needs_proof:
        return decision
    senders = from_addresses(msg)
    how = authentication.vouches_for(senders[0]) if authentication and senders else ""
    if how:
        return Decision(decision.status, decision.rule, f"{decision.reason} (authenticated: {how})")
    shown = senders[0] if senders else "the sender"
    return Decision(
        ListMessage.HELD,
        "sender-not-authenticated",
        f"sender not authenticated: nothing vouches that {shown} sent it (no DKIM signature of "
        "its domain verified, SPF did not pass for an aligned envelope sender); held for a "
        "moderator.",
    )


def archive_url(mailing_list: MailingList) -> str:
    return settings.BASE_URL + reverse("archive:index", args=[mailing_list.name])


def default_footer(mailing_list: MailingList) -> str:
    footer = (
        f'You received this message because you are a member of the "{mailing_list.name}" list '
        f"({mailing_list.address}).\nLeave: {page_url(mailing_list, 'leave')}"
    )
    if mailing_list.archive_visibility != MailingList.ARCHIVE_OFF:
        footer += f"\nArchive: {archive_url(mailing_list)}"
    return footer


def tag_subject(mailing_list: MailingList, msg: EmailMessage) -> None:
    """Add the subject tag once: never "[a] Re: [a]"."""
    subject = str(msg.get("Subject", ""))
    tag = mailing_list.subject_tag
    if tag and tag.lower() not in subject.lower():
        subject = f"{tag} {subject}".strip()
    del msg["Subject"]
    msg["Subject"] = subject


def _append_footer(part: EmailMessage, footer: str) -> None:
    try:
        content = part.get_content()
    except (LookupError, ValueError):
        return  # unknown charset: leave the part as it came rather than damage it
    if part.get_content_type() == "text/html":
        from django.utils.html import escape, linebreaks

        block = f'<div class="list-footer">{linebreaks(escape(footer))}</div>'
        lowered = content.lower()
        at = lowered.rfind("</body>")
        content = content[:at] + block + content[at:] if at >= 0 else content + block
        part.set_content(content, subtype="html", cte="quoted-printable")
    else:
        part.set_content(content.rstrip("\n") + "\n\n-- \n" + footer + "\n", cte="quoted-printable")


def add_footer(msg: EmailMessage, footer: str) -> None:
    """Append the footer to the message's text, in every alternative."""
    if not footer:
        return
    content_type = msg.get_content_type()
    if content_type in ("text/plain", "text/html"):
        _append_footer(msg, footer)
    elif content_type == "multipart/alternative":
        for part in msg.iter_parts():
            if isinstance(part, EmailMessage) and part.get_content_type() in (
                "text/plain",
                "text/html",
            ):
                _append_footer(part, footer)
    elif msg.is_multipart():
        first = next(iter(msg.iter_parts()), None)
        if isinstance(first, EmailMessage):
            add_footer(first, footer)


def page_url(mailing_list: MailingList, name: str) -> str:
    return settings.BASE_URL + reverse(f"lists:{name}", args=[mailing_list.name])


def unsubscribe_header(mailing_list: MailingList) -> str:
    """Return the List-Unsubscribe every copy carries; the worker makes it one-click per member."""
    return f"<mailto:{mailing_list.command_address('leave')}>"


def list_headers(mailing_list: MailingList, msg: EmailMessage, permalink: str) -> None:
    for name in REPLACED_HEADERS:
        del msg[name]
    msg["List-Id"] = list_id_header(mailing_list.label, mailing_list.list_id)
    msg["List-Post"] = f"<mailto:{mailing_list.address}>"
    msg["List-Help"] = (
        f"<mailto:{mailing_list.command_address('request')}?subject=help>, "
        f"<{page_url(mailing_list, 'join')}>"
    )
    msg["List-Subscribe"] = (
        f"<mailto:{mailing_list.command_address('join')}>, <{page_url(mailing_list, 'join')}>"
    )
    msg["List-Unsubscribe"] = unsubscribe_header(mailing_list)
    if permalink:
        msg["List-Archive"] = f"<{archive_url(mailing_list)}>"
        msg["Archived-At"] = f"<{permalink}>"
    msg["Precedence"] = "list"
    msg["X-BeenThere"] = mailing_list.address


# The shared copy's List-Unsubscribe, as list_headers() writes it: one unfolded line.
SHARED_UNSUBSCRIBE = re.compile(
    rb"^List-Unsubscribe: <mailto:([a-z0-9_-]+)-leave@([^>\r\n]+)>\r\n", re.MULTILINE
)


def personalize(data: bytes, list_id: int, address: str) -> bytes:
    """Make a relayed copy's List-Unsubscribe one-click (RFC 8058) for one member.

    The delivery worker calls this for each recipient of a list send, before DKIM signing: the
    shared `List-Unsubscribe: <mailto:{list}-leave@…>` line gains the member's signed link and
    `List-Unsubscribe-Post`. A copy without that line (a digest, a notice) is returned as is.
    """
    header_end = data.find(b"\r\n\r\n")
    found = SHARED_UNSUBSCRIBE.search(data, 0, header_end if header_end >= 0 else len(data))
    if found is None:
        return data
    name = found.group(1).decode()
    url = settings.BASE_URL + reverse(
        "lists:unsubscribe", args=[name, member_token(list_id, address)]
    )
    mailto = found.group(0)[len(b"List-Unsubscribe: ") : -2]
    personal = (
        f"List-Unsubscribe: <{url}>,\r\n ".encode()
        + mailto
        + b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
    )
    return data[: found.start()] + personal + data[found.end() :]


def set_reply_to(mailing_list: MailingList, msg: EmailMessage) -> None:
    """Apply the list's Reply-To policy: replies to the author (as sent), the list, or both."""
    policy = mailing_list.reply_to
    if policy == MailingList.REPLY_TO_AUTHOR:
        return
    author = [str(v) for v in msg.get_all("Reply-To", [])] or [
        str(v) for v in msg.get_all("From", [])
    ]
    del msg["Reply-To"]
    if policy == MailingList.REPLY_TO_LIST:
        msg["Reply-To"] = mailing_list.address
    else:
        msg["Reply-To"] = ", ".join([*author, mailing_list.address])


def _queue_members(send: Send, mailing_list: MailingList, message_id: str) -> int:
    delivery = Delivery._meta.db_table
    member = Member._meta.db_table
    sql = f"""
        INSERT INTO {delivery}
            (send_id, address, subscriber_id, topic_id, state, attempts, last_reply, message_id)
        SELECT %s, m.address, NULL, NULL, %s, 0, '', %s
        FROM {member} m
        WHERE m.mailing_list_id = %s AND m.delivery_mode = %s AND LOWER(m.address) <> LOWER(%s)
            AND m.disabled_by_bounces = %s
    """  # noqa: S608 - table names come from models, values are parameters
    params: list[object] = [send.pk, Delivery.QUEUED, message_id, mailing_list.pk, Member.EACH]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, mailing_list.address, False])  # type: ignore[list-item]
        return cursor.rowcount


def receive_post(
    mailing_list: MailingList, inbound: InboundMessage, msg: EmailMessage
) -> ListMessage:
    """Decide about a post; if accepted, archive it and queue it for every member, atomically."""
    # DNS before the transaction, so that a slow lookup never holds the database's write lock.
    mitigate = dmarc.needs_mitigation(msg)
    authentication = None
    if mailing_list.require_sender_authentication or arc.can_seal():
        authentication = authenticate(
            bytes(inbound.raw), inbound.mail_from, inbound.peer, inbound.helo, mailing_list.address
        )
    with transaction.atomic():
        existing = ListMessage.objects.filter(mailing_list=mailing_list, inbound=inbound).first()
        if existing is not None:  # routed before a crash: never relay twice
            return existing
        decision = decide(mailing_list, msg, inbound.mail_from, authentication)
        candidates = sender_candidates(msg, inbound.mail_from)
        record = ListMessage.objects.create(
            mailing_list=mailing_list,
            inbound=inbound,
            status=decision.status,
            rule=decision.rule,
            reason=decision.reason,
            sender=candidates[0] if candidates else "",
            subject=str(msg.get("Subject", ""))[:500],
        )
        if decision.status == ListMessage.ACCEPTED:
            relay(
                mailing_list, inbound, msg, mitigate_dmarc=mitigate, authentication=authentication
            )
        elif decision.status == ListMessage.HELD:
            notify_moderators(record)
            tell_held(record, authentication)
        return record


def relay(
    mailing_list: MailingList,
    inbound: InboundMessage,
    msg: EmailMessage,
    *,
    mitigate_dmarc: bool,
    authentication: Authentication | None = None,
) -> Send:
    """Archive an accepted post and queue it for every member; call inside a transaction.

    With what was found on arrival (authentication) and a key for the lists domain, the copy
    is ARC-sealed (lists.arc)."""
    tag_subject(mailing_list, msg)
    if msg.get("Date") is None:
        # Receivers score a message without a date as spam (RFC 5322 requires one).
        msg["Date"] = format_datetime(timezone.now())
    strip_attachments(mailing_list, msg)
    # The archive keeps the post (unless the list's archive is off) and answers its permalink.
    archived = post_accepted.send(sender=relay, mailing_list=mailing_list, msg=msg, inbound=inbound)
    permalink = next((url for _, url in archived if url), "")
    list_headers(mailing_list, msg, permalink)
    set_reply_to(mailing_list, msg)
    if mitigate_dmarc:  # after archiving, so that the archive still names the author
        dmarc.rewrite_from(msg, mailing_list.address, mailing_list.label)
    add_footer(msg, mailing_list.footer or default_footer(mailing_list))
    send = Send.objects.create(
        kind=Send.LIST_POST,
        mailing_list=mailing_list,
        message=_sealed(msg.as_bytes(policy=POLICY), authentication, inbound.mail_from),
        mail_from=mailing_list.bounces_address,
    )
    _queue_members(send, mailing_list, str(msg.get("Message-ID", "")))
    return send


def _sealed(data: bytes, authentication: Authentication | None, mail_from: str) -> bytes:
    if authentication is None or not arc.can_seal():
        return data
    return arc.seal(data, authentication, mail_from)


def hold_malformed(mailing_list: MailingList, inbound: InboundMessage, problem: str) -> ListMessage:
    """Hold a post the router could not parse, so a moderator sees it with the reason."""
    record, created = ListMessage.objects.get_or_create(
        mailing_list=mailing_list,
        inbound=inbound,
        defaults={
            "status": ListMessage.HELD,
            "rule": "malformed",
            "reason": f"The message is malformed: {problem}",
            "sender": inbound.mail_from,
            "subject": inbound.subject,
        },
    )
    if created:
        notify_moderators(record)
    return record
