from __future__ import annotations

import logging
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.template import Template, TemplateSyntaxError
from django.utils import timezone

from tidings.accounts.models import Account, Membership, SenderIdentity
from tidings.bulletins import signals
from tidings.bulletins.models import Bulletin, MessageTemplate
from tidings.delivery.actions import send_message
from tidings.delivery.models import Delivery, Send
from tidings.lib import segments
from tidings.subscribers.audiences import in_segment, segment_sql
from tidings.subscribers.models import Segment, Subscriber, Subscription, Suppression
from tidings.topics.models import Topic

log = logging.getLogger("tidings.bulletins")

# At most this many addresses per test send: it is a proof, not a mailing.
MAX_TEST_ADDRESSES = 10


def _check_parts(
    account: Account,
    topics: list[Topic],
    sender: SenderIdentity | None,
    template: MessageTemplate | None = None,
    segment: Segment | None = None,
) -> None:
    if segment is not None and segment.account_id != account.pk:
        raise ValidationError("The segment must belong to the bulletin's account.")
    if template is not None and template.account_id != account.pk:
        raise ValidationError("The message template must belong to the bulletin's account.")
    if not topics:
        raise ValidationError("A bulletin needs at least one topic.")
    if any(t.account_id != account.pk for t in topics):
        raise ValidationError("Every topic must belong to the bulletin's account.")
    if sender is not None and sender.account_id != account.pk:
        raise ValidationError("The sender identity must belong to the bulletin's account.")


def _check_text(text: str) -> None:
    """A text message version must fit the segments a text may take."""
    try:
        segments.check(text.strip())
    except segments.TooLong as error:
        raise ValidationError({"text": str(error)}) from None


def create_bulletin(
    account: Account,
    *,
    subject: str,
    body: str,
    topics: list[Topic],
    body_format: str = "markdown",
    sender: SenderIdentity | None = None,
    created_by: User | None = None,
    text: str = "",
    template: MessageTemplate | None = None,
    segment: Segment | None = None,
) -> Bulletin:
    """Create a draft bulletin for one or more of the account's topics."""
    _check_parts(account, topics, sender, template, segment)
    _check_text(text)
    bulletin = Bulletin(
        account=account,
        subject=subject,
        body=body,
        body_format=body_format,
        sender=sender,
        created_by=created_by,
        text=text.strip(),
        template=template,
        segment=segment,
    )
    bulletin.full_clean()
    with transaction.atomic():
        bulletin.save()
        bulletin.topics.set(topics)
    return bulletin


def update_draft(
    bulletin: Bulletin,
    *,
    subject: str,
    body: str,
    topics: list[Topic],
    body_format: str = "markdown",
    sender: SenderIdentity | None = None,
    text: str | None = None,
    template: MessageTemplate | object | None = ...,
    segment: Segment | object | None = ...,
) -> Bulletin:
    """Change a draft's content; only drafts change (cancel a schedule first). Leaving text or
    template out keeps them."""
    if template is not ...:
        assert template is None or isinstance(template, MessageTemplate)
        bulletin.template = template
    if segment is not ...:
        assert segment is None or isinstance(segment, Segment)
        bulletin.segment = segment
    _check_parts(bulletin.account, topics, sender, bulletin.template, bulletin.segment)
    bulletin.subject, bulletin.body, bulletin.body_format = subject, body, body_format
    if text is not None:
        _check_text(text)
        bulletin.text = text.strip()
    bulletin.sender = sender
    bulletin.full_clean()
    with transaction.atomic():
        fields = ["subject", "body", "body_format", "sender", "text", "template", "segment"]
        changed = Bulletin.objects.filter(pk=bulletin.pk, status=Bulletin.DRAFT).update(
            **{name: getattr(bulletin, name) for name in fields}
        )
        if changed != 1:
            raise ValidationError(f"Bulletin #{bulletin.pk} is no longer a draft.")
        bulletin.topics.set(topics)
    return bulletin


def schedule_bulletin(bulletin: Bulletin, when: datetime) -> Bulletin:
    """Schedule a draft to be published at `when` (an aware datetime in the future)."""
    if timezone.is_naive(when):
        raise ValidationError("The schedule time needs a time zone.")
    if when <= timezone.now():
        raise ValidationError("The schedule time must be in the future.")
    if not bulletin.topics.exists():
        raise ValidationError("A bulletin needs at least one topic.")
    changed = Bulletin.objects.filter(pk=bulletin.pk, status=Bulletin.DRAFT).update(
        status=Bulletin.SCHEDULED, scheduled_at=when
    )
    if changed != 1:
        raise ValidationError(f"Only a draft can be scheduled; bulletin #{bulletin.pk} is not.")
    bulletin.refresh_from_db()
    return bulletin


def cancel_schedule(bulletin: Bulletin) -> Bulletin:
    """Take a scheduled bulletin back to a draft, unless it has already gone out."""
    changed = Bulletin.objects.filter(pk=bulletin.pk, status=Bulletin.SCHEDULED).update(
        status=Bulletin.DRAFT, scheduled_at=None
    )
    if changed != 1:
        raise ValidationError(f"Bulletin #{bulletin.pk} is not scheduled.")
    bulletin.refresh_from_db()
    return bulletin


def preview_message(
    bulletin: Bulletin, *, recipient: str, subscriber_id: int = 0, topic: Topic | None = None
) -> EmailMessage:
    """Return the bulletin's message exactly as `recipient` would get it for `topic`."""
    from tidings.bulletins.email import BulletinRenderer

    topic = topic or bulletin.topics.order_by("pk").first()
    if topic is None:
        raise ValidationError("A bulletin needs at least one topic.")
    msg = BulletinRenderer(bulletin).message_for(
        topic=topic, recipient=recipient, subscriber_id=subscriber_id
    )
    # The composer's choice of sender identity.
    msg.replace_header("From", formataddr(bulletin.from_name_address()))
    return msg


def _copies(bulletin: Bulletin, addresses: list[str], prefix: str) -> int:
    """Queue the subscriber's message to each address, its subject prefixed; return the count."""
    known = dict(
        Subscriber.objects.filter(account=bulletin.account, email__in=addresses).values_list(
            "email", "pk"
        )
    )
    for address in addresses:
        msg = preview_message(bulletin, recipient=address, subscriber_id=known.get(address, 0))
        msg.replace_header("Subject", prefix + str(msg["Subject"]))
        send_message(msg, [address], account=bulletin.account)
    return len(addresses)


def send_test(bulletin: Bulletin, addresses: list[str]) -> int:
    """Send the bulletin as a subscriber would get it, subject "[TEST] …", to a few addresses."""
    cleaned = list(dict.fromkeys(a.strip().lower() for a in addresses if a.strip()))
    if not cleaned:
        raise ValidationError("Give at least one address for the test.")
    if len(cleaned) > MAX_TEST_ADDRESSES:
        raise ValidationError(f"A test goes to at most {MAX_TEST_ADDRESSES} addresses.")
    for address in cleaned:
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError(f"{address!r} is not an email address.") from None
    return _copies(bulletin, cleaned, "[TEST] ")


def courtesy_recipients(account: Account) -> list[str]:
    """Return the addresses of the account's admins, who get a copy of each bulletin sent."""
    if not account.courtesy_copy:
        return []
    emails = (
        Membership.objects.filter(account=account, role=Membership.ADMIN)
        .exclude(user__email="")
        .order_by("user__email")
        .values_list("user__email", flat=True)
    )
    return list(dict.fromkeys(e.lower() for e in emails))


def _snapshot_recipients(send: Send, bulletin: Bulletin) -> int:
    """Write one delivery row per confirmed subscriber of the bulletin's topics, in SQL."""
    delivery = Delivery._meta.db_table
    subscription = Subscription._meta.db_table
    subscriber = Subscriber._meta.db_table
    suppression = Suppression._meta.db_table
    topic_ids = list(bulletin.topics.values_list("pk", flat=True))
    if not topic_ids:
        return 0
    if len(topic_ids) == 1:
        # A subscriber has at most one subscription to a topic: every row is already one
        # address, and PostgreSQL is spared aggregating a million rows.
        pick, group = "sub.topic_id", ""
    else:
        # One row per address even when it follows several of the topics; it gets the
        # bulletin for the first of them.
        pick, group = "MIN(sub.topic_id)", "GROUP BY s.id, s.email"
    in_topics = ", ".join(["%s"] * len(topic_ids))
    # A segment keeps only the subscribers it picks (subscribers.audiences).
    in_segment, segment_params = (
        segment_sql(bulletin.segment, "s.id") if bulletin.segment else ("1 = 1", [])
    )
    sql = f"""
        INSERT INTO {delivery}
            (send_id, address, subscriber_id, topic_id, state, attempts, last_reply, message_id)
        SELECT %s, s.email, s.id, {pick}, %s, 0, '', ''
        FROM {subscription} sub
        JOIN {subscriber} s ON s.id = sub.subscriber_id
        WHERE sub.topic_id IN ({in_topics})
          AND s.status = %s
          AND s.delivery_mode = %s
          AND NOT EXISTS (
            SELECT 1 FROM {suppression} x
            WHERE x.email = s.email AND (x.account_id IS NULL OR x.account_id = s.account_id)
          )
          AND {in_segment}
        {group}
    """  # noqa: S608 - table names come from models, values are parameters
    params: list[Any] = [send.pk, Delivery.QUEUED, *topic_ids]
    params += [Subscriber.CONFIRMED, Subscriber.IMMEDIATE]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *segment_params])
        return cursor.rowcount


def recipient_counts(bulletin: Bulletin) -> tuple[list[tuple[Topic, int]], int]:
    """Who the bulletin would reach by email if sent now, as the snapshot counts them: per
    topic, and in all (an address following several of its topics gets it once)."""
    suppressed = Suppression.objects.filter(email=OuterRef("subscriber__email")).filter(
        Q(account__isnull=True) | Q(account_id=bulletin.account_id)
    )
    following = Subscription.objects.filter(
        topic__in=bulletin.topics.all(),
        subscriber__status=Subscriber.CONFIRMED,
        subscriber__delivery_mode=Subscriber.IMMEDIATE,
    ).exclude(Exists(suppressed))
    if bulletin.segment:
        picked = Subscriber.objects.filter(in_segment(bulletin.segment)).values("pk")
        following = following.filter(subscriber__in=picked)
    per_topic = dict(following.values_list("topic").annotate(n=Count("subscriber")).order_by())
    topics = list(bulletin.topics.order_by("name"))
    total = following.values("subscriber").distinct().count()
    return [(topic, per_topic.get(topic.pk, 0)) for topic in topics], total


def publish_bulletin(bulletin: Bulletin, *, published_at: datetime | None = None) -> Send:
    """Publish a draft: a send in `preparing`, then its recipients snapshot into delivery rows.

    Called on its own (the `publish` and `send` commands), these are two transactions, so
    the send is visible (and can be cancelled) while a large snapshot runs; if the process
    dies between them, the `bulletins.scheduled` job finishes the snapshot
    (`prepare_stale_sends`). Inside a caller's transaction they commit together:
    send_bulletin() (console, API, feeds, scheduler) publishes all or nothing, with the
    courtesy copies. The snapshot itself is one statement either way.
    """
    with transaction.atomic():
        locked = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
        if locked.status != Bulletin.DRAFT:
            raise ValidationError(f"Bulletin #{bulletin.pk} was already published.")
        now = timezone.now()
        locked.published_at = published_at or now
        locked.status = Bulletin.SENDING
        locked.publish_error = ""
        locked.save(update_fields=["published_at", "status", "publish_error"])
        send = Send.objects.create(kind=Send.BULLETIN, bulletin=locked, state=Send.PREPARING)
        signals.published.send(sender=publish_bulletin, bulletin=locked, send=send)
    prepare_send(send)
    bulletin.refresh_from_db()
    return send


def prepare_send(send: Send) -> bool:
    """Snapshot a preparing send's recipients and start it; False if it was not preparing.

    The conditional UPDATE is the claim: a second caller (the recovery job, racing a slow
    snapshot) waits for the first one's transaction and then changes nothing.
    """
    with transaction.atomic():
        claimed = Send.objects.filter(pk=send.pk, state=Send.PREPARING).update(state=Send.SENDING)
        if claimed == 1:
            assert send.bulletin is not None
            _snapshot_recipients(send, send.bulletin)
    send.refresh_from_db()
    return claimed == 1


def prepare_stale_sends(older_than: timedelta = timedelta(minutes=2)) -> int:
    """Finish the snapshot of bulletin sends left `preparing` (their publisher died); return
    how many were started."""
    cutoff = timezone.now() - older_than
    stale = Send.objects.filter(
        kind=Send.BULLETIN, state=Send.PREPARING, created__lt=cutoff
    ).select_related("bulletin")
    return sum(prepare_send(send) for send in stale)


class PublishError(ValidationError):
    """The bulletin's message can't be written (a bad value in it): nothing was sent."""


def check_renders(bulletin: Bulletin) -> None:
    """Write the bulletin's message for each of its topics once; raise PublishError if any fails.

    A value that slipped past validation (a line break in a name written before the rule
    existed) then stops the publication with the reason, instead of failing every recipient.
    """
    from tidings.bulletins.email import BulletinRenderer

    try:
        renderer = BulletinRenderer(bulletin)
        for topic in bulletin.topics.all():
            renderer.template_for(topic)
    except Exception as error:
        raise PublishError(
            f"Bulletin #{bulletin.pk} can't be sent: its message could not be written "
            f"({error}). Nothing was sent."
        ) from error


def send_bulletin(bulletin: Bulletin, *, published_at: datetime | None = None) -> Send:
    """Publish a draft now and send the account admins their courtesy copy."""
    check_renders(bulletin)
    try:
        with transaction.atomic():
            send = publish_bulletin(bulletin, published_at=published_at)
            admins = courtesy_recipients(bulletin.account)
            if admins:
                _copies(bulletin, admins, "[Courtesy copy] ")
    except ValidationError:
        raise
    except (ValueError, TypeError) as error:
        raise PublishError(
            f"Bulletin #{bulletin.pk} can't be sent: {error}. Nothing was sent."
        ) from error
    return send


def publish_due(now: datetime | None = None) -> int:
    """Publish every scheduled bulletin whose time has come; return how many were published.

    Each bulletin is claimed with a conditional UPDATE (scheduled → draft) in the same
    transaction that publishes it: a second worker's claim updates no row, so it goes out once.
    """
    now = now or timezone.now()
    due = list(
        Bulletin.objects.filter(status=Bulletin.SCHEDULED, scheduled_at__lte=now)
        .order_by("scheduled_at", "pk")
        .values_list("pk", flat=True)[:100]
    )
    published = 0
    for pk in due:
        try:
            published += _publish_scheduled(pk)
        except Exception as error:
            # Back to draft with the reason, so it is not retried every cycle and its author
            # sees why; the other accounts' bulletins go out all the same.
            log.warning("scheduled bulletin %s not published: %s", pk, error)
            reason = " ".join(getattr(error, "messages", [str(error)]))
            Bulletin.objects.filter(pk=pk, status=Bulletin.SCHEDULED).update(
                status=Bulletin.DRAFT, publish_error=reason[:2000]
            )
    return published


def _publish_scheduled(pk: int) -> int:
    with transaction.atomic():
        claimed = Bulletin.objects.filter(pk=pk, status=Bulletin.SCHEDULED).update(
            status=Bulletin.DRAFT
        )
        if claimed != 1:
            return 0
        bulletin = Bulletin.objects.select_related("account", "sender").get(pk=pk)
        send_bulletin(bulletin, published_at=bulletin.scheduled_at)
        return 1


def delete_draft(bulletin: Bulletin) -> None:
    """Delete a bulletin that is still a draft."""
    with transaction.atomic():
        locked = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
        if locked.status != Bulletin.DRAFT:
            raise ValidationError(f"Bulletin #{bulletin.pk} is {locked.status}, not a draft.")
        locked.delete()


def save_template(
    account: Account,
    *,
    name: str,
    header: str,
    footer: str,
    layout: str,
    template: MessageTemplate | None = None,
) -> MessageTemplate:
    """Create or change one of the account's message templates (their text must compile)."""
    for part in (header, footer):
        try:
            Template(part)
        except TemplateSyntaxError as error:
            raise ValidationError(f"This template does not compile: {error}") from None
    found = template or MessageTemplate(account=account)
    if found.account_id != account.pk:
        raise ValidationError("The message template belongs to another account.")
    found.name, found.header, found.footer, found.layout = name, header, footer, layout
    found.full_clean()
    found.save()
    return found


def delete_template(template: MessageTemplate) -> None:
    """Drop a template; its bulletins fall back to the account's own header and footer."""
    template.delete()
