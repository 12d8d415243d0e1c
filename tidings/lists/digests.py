"""Daily digests for members who chose them: MIME (RFC 2046 multipart/digest) or plain text
(RFC 1153, as Mailman sends them), each with the list's RFC 2369 headers and, per member, the
RFC 8058 one-click unsubscribe (the worker's personalize(), as for relayed posts)."""

from __future__ import annotations

from datetime import datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage, MIMEPart
from email.policy import default

from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from tidings.delivery.models import Delivery, Send
from tidings.delivery.notices import stamped
from tidings.lib.html import html_to_text
from tidings.lib.languages import for_mail
from tidings.lib.mail import POLICY
from tidings.lists.models import MailingList, Member
from tidings.lists.relay import archive_url, list_headers

PERIOD = timedelta(days=1)


def digest_message(mailing_list: MailingList, posts: list[bytes], now: datetime) -> EmailMessage:
    """Return one digest: a table of contents, then every post as a message/rfc822 part."""
    parsed = [message_from_bytes(raw, policy=default) for raw in posts]
    day = timezone.localtime(now, mailing_list.tz).date().isoformat()
    values = {"label": mailing_list.label, "day": day, "count": len(posts)}
    subject = ngettext(
        "%(label)s digest, %(day)s: %(count)d message",
        "%(label)s digest, %(day)s: %(count)d messages",
        len(posts),
    )
    outer = digest_envelope(mailing_list, subject % values, now)
    outer["MIME-Version"] = "1.0"
    outer.make_mixed()
    title = gettext("%(label)s digest, %(day)s") % values
    lines = [title, "", gettext("Today's topics:"), ""]
    for n, msg in enumerate(parsed, start=1):
        author = msg.get("X-Original-From") or msg.get("From", "")
        lines.append(f"{n}. {msg.get('Subject', gettext('(no subject)'))} ({author})")
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


def digest_envelope(mailing_list: MailingList, subject: str, now: datetime) -> EmailMessage:
    """A digest's headers: from the list to the list, with the list's own headers."""
    msg = stamped(
        EmailMessage(policy=POLICY),
        sender=(mailing_list.label, mailing_list.address),
        to=mailing_list.address,
        subject=subject,
        kind="digest",
        auto="",
        date=now,
    )
    digest_headers(mailing_list, msg)
    return msg


def digest_headers(mailing_list: MailingList, msg: EmailMessage) -> None:
    """The same RFC 2369 headers as a relayed post (List-Unsubscribe made one-click per member
    by the worker)."""
    archived = mailing_list.archive_visibility != MailingList.ARCHIVE_OFF
    list_headers(mailing_list, msg, archive_url(mailing_list) if archived else "")
    del msg["Archived-At"]


SEPARATOR = "-" * 70  # RFC 1153: after the table of contents
BETWEEN = "-" * 30  # RFC 1153: between two messages


def _text_of(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError):
        return "[This part could not be decoded.]"
    if part.get_content_type() == "text/html":
        content = html_to_text(content, links=True)
    return str(content).replace("\r\n", "\n").strip("\n")


def plain_digest_message(
    mailing_list: MailingList, posts: list[bytes], now: datetime
) -> EmailMessage:
    """Return one RFC 1153 digest: one text/plain message, the posts one after another."""
    parsed = [message_from_bytes(raw, policy=default) for raw in posts]
    day = timezone.localtime(now, mailing_list.tz).date().isoformat()
    # Translators: the title of a plain-text list digest (RFC 1153), e.g. "Wanabidii Digest".
    title = gettext("%(label)s Digest") % {"label": mailing_list.label}
    msg = digest_envelope(mailing_list, f"{title}, {day}", now)
    lines = [f"{title}, {day}", "", gettext("Today's Topics:"), ""]
    for n, post in enumerate(parsed, start=1):
        author = post.get("X-Original-From") or post.get("From", "")
        lines.append(f"   {n}. {post.get('Subject', gettext('(no subject)'))} ({author})")
    lines += ["", SEPARATOR, ""]
    for n, post in enumerate(parsed, start=1):
        for name in ("Date", "From", "Subject", "Message-ID"):
            value = post.get("X-Original-From") if name == "From" else None
            value = value or post.get(name)
            if value:
                lines.append(f"{name}: {value}")
        # RFC 1153: a line of exactly 30 dashes inside a message would end it.
        body = "\n".join(
            line + " " if line == BETWEEN else line for line in _text_of(post).split("\n")
        )
        lines += ["", body, "", BETWEEN if n < len(parsed) else "", ""]
    ending = gettext("End of %(title)s, %(day)s") % {"title": title, "day": day}
    lines += [BETWEEN, "", ending, "*" * len(ending), ""]
    msg.set_content("\n".join(lines), cte="quoted-printable")
    return msg


def _queue_digest_members(
    send: Send,
    mailing_list: MailingList,
    message_id: str,
    mode: str = Member.DIGEST,
    languages: list[str] | None = None,
) -> int:
    delivery = Delivery._meta.db_table
    member = Member._meta.db_table
    sql = f"""
        INSERT INTO {delivery}
            (send_id, address, subscriber_id, topic_id, state, attempts, last_reply, message_id)
        SELECT %s, m.address, NULL, NULL, %s, 0, '', %s
        FROM {member} m
        WHERE m.mailing_list_id = %s AND m.delivery_mode = %s AND m.disabled_by_bounces = %s
    """  # noqa: S608 - table names come from models, values are parameters
    params: list[int | str | bool] = [
        send.pk,
        Delivery.QUEUED,
        message_id,
        mailing_list.pk,
        mode,
        False,
    ]
    if languages is not None:
        sql += f" AND m.language IN ({', '.join(['%s'] * len(languages))})"
        params += languages
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
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
        first: Send | None = None
        for mode, build in (
            (Member.DIGEST, digest_message),
            (Member.PLAIN_DIGEST, plain_digest_message),
        ):
            # One digest per language its members read (a member who chose none: the list's).
            chosen = Member.objects.filter(mailing_list=mailing_list, delivery_mode=mode)
            by_language: dict[str, list[str]] = {}
            for stored in chosen.values_list("language", flat=True).distinct():
                spoken = for_mail(stored, mailing_list.language)
                by_language.setdefault(spoken, []).append(stored)
            for spoken, stored_values in sorted(by_language.items()):
                with translation.override(spoken):
                    msg = build(mailing_list, posts, now)
                send = Send.objects.create(
                    kind=Send.NOTICE,
                    mailing_list=mailing_list,
                    account=mailing_list.account,
                    message=msg.as_bytes(policy=POLICY),
                    mail_from=mailing_list.bounces_address,
                )
                message_id = str(msg["Message-ID"])
                _queue_digest_members(send, mailing_list, message_id, mode, stored_values)
                first = first or send
    return first


def send_due_digests(now: datetime | None = None) -> int:
    """Send every list's due digest; return how many were sent."""
    list_ids = (
        Member.objects.filter(delivery_mode__in=Member.DIGESTS)
        .values_list("mailing_list_id", flat=True)
        .distinct()
    )
    sent = 0
    for mailing_list in MailingList.objects.filter(pk__in=list_ids):
        if send_digest(mailing_list, now) is not None:
            sent += 1
    return sent
