"""Daily MIME digests (RFC 2046 multipart/digest) for members who chose them."""

from __future__ import annotations

from datetime import datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage, MIMEPart
from email.policy import default
from email.utils import format_datetime, formataddr, make_msgid

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from tidings.bulletins.email import POLICY
from tidings.delivery.models import Delivery, Send
from tidings.lists.models import MailingList, Member

PERIOD = timedelta(days=1)


def digest_message(mailing_list: MailingList, posts: list[bytes], now: datetime) -> EmailMessage:
    """Return one digest: a table of contents, then every post as a message/rfc822 part."""
    parsed = [message_from_bytes(raw, policy=default) for raw in posts]
    day = timezone.localtime(now, mailing_list.tz).date().isoformat()
    outer = EmailMessage(policy=POLICY)
    outer["From"] = formataddr((mailing_list.label, mailing_list.address))
    outer["To"] = mailing_list.address
    outer["Subject"] = f"{mailing_list.label} digest, {day}: {len(posts)} messages"
    outer["Date"] = format_datetime(now)
    outer["Message-ID"] = make_msgid("digest", domain=settings.MAIL_DOMAIN)
    outer["MIME-Version"] = "1.0"
    outer["List-Id"] = f'"{mailing_list.label}" <{mailing_list.list_id}>'
    outer["List-Post"] = f"<mailto:{mailing_list.address}>"
    outer["List-Unsubscribe"] = f"<mailto:{mailing_list.command_address('leave')}>"
    outer["Precedence"] = "list"
    outer["X-BeenThere"] = mailing_list.address
    outer.make_mixed()
    lines = [f"{mailing_list.label} digest, {day}", "", "Today's topics:", ""]
    for n, msg in enumerate(parsed, start=1):
        author = msg.get("X-Original-From") or msg.get("From", "")
        lines.append(f"{n}. {msg.get('Subject', '(no subject)')} ({author})")
    toc = MIMEPart(policy=POLICY)
    toc.set_content("\n".join(lines) + "\n")
    outer.attach(toc)  # type: ignore[arg-type]
    inner = MIMEPart(policy=POLICY)
    inner.make_mixed()
    inner.replace_header("Content-Type", "multipart/digest")
    for msg in parsed:
        part = MIMEPart(policy=POLICY)
        part.set_content(msg)
        inner.attach(part)  # type: ignore[arg-type]
    outer.attach(inner)  # type: ignore[arg-type]
    return outer


def _queue_digest_members(send: Send, mailing_list: MailingList, message_id: str) -> int:
    delivery = Delivery._meta.db_table
    member = Member._meta.db_table
    sql = f"""
        INSERT INTO {delivery}
            (send_id, address, subscriber_id, topic_id, state, attempts, last_reply, message_id)
        SELECT %s, m.address, NULL, NULL, %s, 0, '', %s
        FROM {member} m
        WHERE m.mailing_list_id = %s AND m.delivery_mode = %s
    """  # noqa: S608 - table names come from models, values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [send.pk, Delivery.QUEUED, message_id, mailing_list.pk, Member.DIGEST])
        return cursor.rowcount


def send_digest(mailing_list: MailingList, now: datetime | None = None) -> Send | None:
    """Send the list's digest of the posts relayed since the last one, if a day has passed."""
    now = now or timezone.now()
    since = mailing_list.digest_sent_until
    if since is not None and since > now - PERIOD:
        return None
    with transaction.atomic():
        # Conditional on the mark not having moved: of two workers, one sends the digest.
        moved = MailingList.objects.filter(pk=mailing_list.pk, digest_sent_until=since).update(
            digest_sent_until=now
        )
        if moved != 1:
            return None
        mailing_list.digest_sent_until = now
        sends = Send.objects.filter(kind=Send.LIST_POST, mailing_list=mailing_list, created__lt=now)
        if since is not None:
            sends = sends.filter(created__gte=since)
        else:
            sends = sends.filter(created__gte=now - PERIOD)
        posts = [bytes(m) for m in sends.order_by("pk").values_list("message", flat=True) if m]
        if not posts:
            return None
        msg = digest_message(mailing_list, posts, now)
        send = Send.objects.create(
            kind=Send.NOTICE,
            mailing_list=mailing_list,
            message=msg.as_bytes(policy=POLICY),
            mail_from=mailing_list.bounces_address,
        )
        _queue_digest_members(send, mailing_list, str(msg["Message-ID"]))
    return send


def send_due_digests(now: datetime | None = None) -> int:
    """Send every list's due digest; return how many were sent."""
    list_ids = (
        Member.objects.filter(delivery_mode=Member.DIGEST)
        .values_list("mailing_list_id", flat=True)
        .distinct()
    )
    sent = 0
    for mailing_list in MailingList.objects.filter(pk__in=list_ids):
        if send_digest(mailing_list, now) is not None:
            sent += 1
    return sent
