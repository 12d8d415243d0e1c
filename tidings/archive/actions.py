"""Every write to the archive: posts from accepted mail, comments, bulletins' search text."""

from __future__ import annotations

import calendar
import hashlib
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import compat32

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tidings.archive import render
from tidings.archive.models import (
    Attachment,
    BulletinText,
    Comment,
    CommentOptOut,
    Month,
    Post,
)
from tidings.archive.render import sanitize_mail_html
from tidings.bulletins.models import Bulletin
from tidings.delivery.actions import send_message
from tidings.delivery.notices import notice
from tidings.inbound.models import InboundMessage
from tidings.lib import mailtext as text
from tidings.lib import pagecache
from tidings.lib.html import html_to_text, markdown_to_html, sanitize
from tidings.lib.languages import for_mail
from tidings.lib.network import network_of
from tidings.lib.tokens import make_token
from tidings.lists.models import MailingList, Member

SLUG_LENGTH = 32
MAX_NAME = 100
MAX_COMMENT = 10000
# A reply whose parent is not archived joins the latest thread with its subject this recent.
SUBJECT_THREAD_WINDOW = timedelta(days=30)
# Comment moderation: MailingList.OPEN and MailingList.HELD, and this third mode.
FIRST_TIME = MailingList.FIRST_TIME
UNSUBSCRIBE_PURPOSE = "comment-notify"


class RateLimited(Exception):
    """Too many comments from one address in a short time."""


def raw_bytes(message: EmailMessage, inbound: InboundMessage | None) -> bytes:
    """Return the message as received if we have it, else as serialized now."""
    if inbound is not None and inbound.raw:
        return bytes(inbound.raw)
    for policy in (message.policy, compat32):
        try:
            return message.as_bytes(policy=policy)
        except Exception:  # noqa: S112 - a header one generator refuses, the next may accept
            continue
    # Nothing serializes it: hash the headers as parsed, which are stable across re-imports.
    return repr(list(message.raw_items())).encode("utf-8", "surrogateescape")


def post_slug(message_id: str, raw: bytes) -> str:
    """Return the permalink slug: a hash of the bare Message-ID, else of the raw message."""
    data = message_id.encode("utf-8") if message_id else raw
    return hashlib.sha256(data).hexdigest()[:SLUG_LENGTH]


def month_bounds(mailing_list: MailingList, year: int, month: int) -> tuple[datetime, datetime]:
    """Return the start and end of a month in the list's time zone."""
    tz = mailing_list.tz
    start = datetime(year, month, 1, tzinfo=tz)
    end = start + timedelta(days=calendar.monthrange(year, month)[1])
    return start, end.replace(tzinfo=tz)


def count_month(mailing_list: MailingList, year: int, month: int) -> None:
    """Recount one month of the year → month tree (idempotent, safe beside other writers)."""
    start, end = month_bounds(mailing_list, year, month)
    n = Post.objects.filter(mailing_list=mailing_list, date__gte=start, date__lt=end).count()
    if n:
        Month.objects.update_or_create(
            mailing_list=mailing_list, year=year, month=month, defaults={"count": n}
        )
    else:
        Month.objects.filter(mailing_list=mailing_list, year=year, month=month).delete()


def local_month(mailing_list: MailingList, date: datetime) -> tuple[int, int]:
    local = timezone.localtime(date, mailing_list.tz)
    return local.year, local.month


def find_thread(
    mailing_list: MailingList, parents: list[str], subject: str, date: datetime
) -> int | None:
    """Return the thread a message belongs to: its nearest archived parent's, else by subject."""
    if parents:
        rows = Post.objects.filter(mailing_list=mailing_list, message_id__in=parents).values_list(
            "message_id", "thread_id", "pk"
        )
        # A first post whose thread is not yet set (during an import batch) is its own thread.
        known = {message_id: thread_id or pk for message_id, thread_id, pk in rows}
        for parent in parents:
            if parent in known:
                return known[parent]
    key = text.subject_key(subject)
    if key and text.is_reply_subject(subject):
        row = (
            Post.objects.filter(
                mailing_list=mailing_list,
                subject_key=key,
                date__lte=date,
                date__gte=date - SUBJECT_THREAD_WINDOW,
            )
            .order_by("-date")
            .values_list("thread_id", "pk")
            .first()
        )
        if row is not None:
            return row[0] or row[1]
    return None


def adopt_replies(post: Post) -> None:
    """Move threads started by replies to this post, archived before it, into its thread."""
    if not post.message_id:
        return
    orphans = list(
        Post.objects.filter(
            mailing_list_id=post.mailing_list_id, in_reply_to=post.message_id, thread_id=F("pk")
        )
        .exclude(pk=post.pk)
        .values_list("pk", flat=True)
    )
    if orphans:
        Post.objects.filter(thread_id__in=orphans).update(thread_id=post.thread_id)


def build_post(
    mailing_list: MailingList,
    message: EmailMessage,
    *,
    inbound: InboundMessage | None,
    received: datetime | None,
    slug: str,
    bare_id: str,
) -> Post:
    author_name, author_email = text.author(message)
    body_text, body_html = text.body(message)
    # A huge message is shown as its start: its page stays small and quick (the whole is one
    # click away, in the post's mbox), and nobody sanitizes hundreds of megabytes of HTML.
    limit = settings.ARCHIVE_MAX_SHOWN_CHARS
    truncated = len(body_text) > limit or len(body_html) > limit
    body_text = body_text[:limit]
    body_html = sanitize_mail_html(body_html) if body_html and len(body_html) <= limit else ""
    in_reply_to = text.first_message_id(text.header(message, "In-Reply-To"))[:500]
    references = text.message_ids(text.header(message, "References"))
    return Post(
        mailing_list=mailing_list,
        inbound=inbound,
        message_id=f"<{bare_id}>"[:500] if bare_id else "",
        slug=slug,
        subject=text.header(message, "Subject")[:500],
        author_name=author_name,
        author_email=author_email,
        date=text.message_date(message, received or timezone.now()),
        body_text=body_text,
        body_html=body_html,
        rendered=render.render_html(body_html) if body_html else render.render_text(body_text),
        truncated=truncated,
        in_reply_to=in_reply_to,
        references=" ".join(references)[:10000],
        subject_key=text.subject_key(text.header(message, "Subject")),
        raw=b"" if inbound is not None else raw_bytes(message, None),
    )


def message_slug(message: EmailMessage, inbound: InboundMessage | None = None) -> tuple[str, str]:
    """Return the message's bare Message-ID and its permalink slug."""
    bare_id = text.bare_message_id(text.header(message, "Message-ID"))
    return bare_id, post_slug(bare_id, b"" if bare_id else raw_bytes(message, inbound))


def insert_post(
    mailing_list: MailingList,
    message: EmailMessage,
    *,
    inbound: InboundMessage | None,
    received: datetime | None,
    bare_id: str,
    slug: str,
    set_root: bool = True,
) -> Post:
    """Store a new post, in its thread, with its attachments (no duplicate check)."""
    post = build_post(
        mailing_list, message, inbound=inbound, received=received, slug=slug, bare_id=bare_id
    )
    parents = [post.in_reply_to, *reversed(post.references.split())]
    parents = [p for p in dict.fromkeys(parents) if p and p != post.message_id]
    post.thread_id = find_thread(mailing_list, parents, post.subject, post.date)
    post.save()
    if post.thread_id is None and set_root:
        post.thread_id = post.pk
        Post.objects.filter(pk=post.pk).update(thread_id=post.pk)
    files = text.attachments(message)
    if files:
        Attachment.objects.bulk_create(
            Attachment(
                post=post,
                position=n,
                filename=name,
                content_type=content_type,
                size=len(data),
                data=data,
            )
            for n, (name, content_type, data) in enumerate(files, 1)
        )
    return post


def archive_post(
    mailing_list: MailingList,
    message: EmailMessage,
    *,
    inbound: InboundMessage | None = None,
    received: datetime | None = None,
) -> Post:
    """Archive a message on the list once; archiving it again returns the same Post."""
    bare_id, slug = message_slug(message, inbound)
    existing = Post.objects.filter(mailing_list=mailing_list, slug=slug).first()
    if existing is not None:
        return existing
    if received is None and inbound is not None:
        received = inbound.received_at
    try:
        with transaction.atomic():
            post = insert_post(
                mailing_list,
                message,
                inbound=inbound,
                received=received,
                bare_id=bare_id,
                slug=slug,
            )
            adopt_replies(post)
            count_month(mailing_list, *local_month(mailing_list, post.date))
    except IntegrityError:  # archived concurrently by another worker: theirs wins
        return Post.objects.get(mailing_list=mailing_list, slug=slug)
    return post


def finish_batch(mailing_list: MailingList, posts: list[Post]) -> None:
    """After insert_post(set_root=False) calls: set first posts' threads, adopt early replies,
    recount the months touched."""
    Post.objects.filter(mailing_list=mailing_list, thread__isnull=True).update(thread_id=F("pk"))
    ids = [p.message_id for p in posts if p.message_id]
    orphans = list(
        Post.objects.filter(
            mailing_list=mailing_list, in_reply_to__in=ids, thread_id=F("pk")
        ).values_list("pk", "in_reply_to")
    )
    for pk, parent_id in orphans:
        parent = (
            Post.objects.filter(mailing_list=mailing_list, message_id=parent_id)
            .exclude(pk=pk)
            .values_list("thread_id", flat=True)
            .first()
        )
        if parent:
            Post.objects.filter(thread_id=pk).update(thread_id=parent)
    for year, month in {local_month(mailing_list, p.date) for p in posts}:
        count_month(mailing_list, year, month)


def moderation_mode(mailing_list: MailingList) -> str:
    return mailing_list.comment_moderation or MailingList.OPEN


def is_known_commenter(mailing_list: MailingList, email: str) -> bool:
    """Say whether this address has had a comment published on the list before."""
    return Comment.objects.filter(
        post__mailing_list=mailing_list, email__iexact=email, status=Comment.PUBLISHED
    ).exists()


def check_rate(ip: str | None) -> None:
    """Raise RateLimited when this address has commented too often lately."""
    if not ip:
        return
    # Counted per client network (an IPv4 address, an IPv6 /64), not per exact address.
    from tidings.subscribers.actions import allow

    key = f"comment-net:{network_of(ip)}"
    if not allow(key, settings.ARCHIVE_COMMENT_RATE_LIMIT, settings.ARCHIVE_COMMENT_RATE_SECONDS):
        raise RateLimited(
            _("You have posted several comments just now; please wait a few minutes.")
        )


def validate_comment(name: str, email: str, body: str) -> None:
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("Please enter your name.")]
    elif len(name) > MAX_NAME:
        errors["name"] = [_("Please keep your name to %(max)d characters.") % {"max": MAX_NAME}]
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = [_("Please enter a valid email address.")]
    if not body:
        errors["body"] = [_("Please write a comment.")]
    elif len(body) > MAX_COMMENT:
        errors["body"] = [
            _("Please keep your comment to %(max)d characters.") % {"max": MAX_COMMENT}
        ]
    if errors:
        raise ValidationError(errors)


def add_comment(
    post: Post,
    *,
    name: str,
    email: str,
    body: str,
    parent: Comment | None = None,
    notify: bool = False,
    ip: str | None = None,
) -> Comment:
    """Add a reader's comment, published or held as the list's moderation setting says."""
    name = text.clean(name).strip()
    email = text.clean(email).strip()
    body = text.clean(body).replace("\r\n", "\n").strip()
    validate_comment(name, email, body)
    if parent is not None and (parent.post_id != post.pk or parent.status != Comment.PUBLISHED):
        raise ValidationError({"parent": [_("You can only reply to a published comment here.")]})
    check_rate(ip)

    mode = moderation_mode(post.mailing_list)
    held = mode == MailingList.HELD or (
        mode == FIRST_TIME and not is_known_commenter(post.mailing_list, email)
    )
    with transaction.atomic():
        comment = Comment.objects.create(
            post=post,
            parent=parent,
            name=name,
            email=email,
            body=body,
            notify=notify,
            ip=ip or None,
            status=Comment.HELD if held else Comment.PUBLISHED,
        )
        if not held:
            notify_readers(comment)
    return comment


def approve_comment(comment: Comment) -> Comment:
    """Publish a held comment and tell those who asked to hear about new comments."""
    with transaction.atomic():
        updated = Comment.objects.filter(pk=comment.pk, status=Comment.HELD).update(
            status=Comment.PUBLISHED
        )
        comment.status = Comment.PUBLISHED
        if updated:  # approved twice (two moderators at once): notify once
            pagecache.bump_scopes(pagecache.mailing_list(comment.post.mailing_list_id))
            notify_readers(comment)
    return comment


def reject_comment(comment: Comment) -> Comment:
    """Keep a held comment out of the archive for good."""
    Comment.objects.filter(pk=comment.pk, status=Comment.HELD).update(status=Comment.REJECTED)
    comment.status = Comment.REJECTED
    return comment


def notification_recipients(comment: Comment) -> list[str]:
    """Return who hears about a published comment: the post's author and commenters who asked."""
    post = comment.post
    recipients = []
    # Imported archives have no inbound message: never mail authors of old mail out of the blue.
    if settings.ARCHIVE_NOTIFY_AUTHORS and post.inbound_id and post.author_email:
        recipients.append(post.author_email.lower())
    asked = (
        Comment.objects.filter(post=post, notify=True, status=Comment.PUBLISHED)
        .exclude(pk=comment.pk)
        .values_list("email", flat=True)
    )
    recipients += [address.lower() for address in asked]
    opted_out = set(CommentOptOut.objects.filter(post=post).values_list("address", flat=True))
    return [
        r for r in dict.fromkeys(recipients) if r != comment.email.lower() and r not in opted_out
    ]


def notify_readers(comment: Comment) -> None:
    """Queue one notice per recipient, each with its own unsubscribe link."""
    post = comment.post
    mailing_list = post.mailing_list
    permalink = settings.BASE_URL + reverse("archive:post", args=[mailing_list.name, post.slug])
    recipients = notification_recipients(comment)
    # In each member's own language, else the list's account's.
    chose = dict(
        Member.objects.filter(mailing_list=mailing_list)
        .annotate(lower=Lower("address"))
        .filter(lower__in=recipients)  # the recipients are lower-cased
        .exclude(language="")
        .values_list("lower", "language")
    )
    for address in recipients:
        with translation.override(for_mail(chose.get(address, ""), mailing_list.language)):
            notify_reader(comment, address, permalink)


def notify_reader(comment: Comment, address: str, permalink: str) -> None:
    """Queue the notice of a new comment for one reader (in the active language)."""
    post = comment.post
    mailing_list = post.mailing_list
    token = make_token(UNSUBSCRIBE_PURPOSE, [post.pk, address])
    unsubscribe = settings.BASE_URL + reverse(
        "archive:comment_unsubscribe", args=[mailing_list.name, post.slug]
    )
    context = {
        "post": post,
        "comment": comment,
        "permalink": f"{permalink}#comment-{comment.pk}",
        "unsubscribe": f"{unsubscribe}?{_query(token)}",
    }
    msg = notice(
        sender=(mailing_list.display_name or mailing_list.name, mailing_list.bounces_address),
        to=address,
        # Translators: a mail's subject; %(subject)s is the subject of the post.
        subject=_("New comment on: %(subject)s") % {"subject": post.subject},
        text=render_to_string("archive/email/comment_body.txt", context),
        kind="comment",
        headers={"List-Unsubscribe": f"<{context['unsubscribe']}>"},
    )
    send_message(msg, [address], account=mailing_list.account)


def _query(token: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"t": token})


def stop_notifications(post: Post, address: str) -> None:
    """Stop comment notices about one post to one address, for good."""
    address = address.lower()
    with transaction.atomic():
        CommentOptOut.objects.get_or_create(post=post, address=address)
        Comment.objects.filter(post=post, email__iexact=address).update(notify=False)


def index_bulletin(bulletin: Bulletin) -> None:
    """Put a published bulletin's words in the search index (and a draft's out of it)."""
    if bulletin.status not in (Bulletin.SENDING, Bulletin.SENT):
        BulletinText.objects.filter(bulletin_id=bulletin.pk).delete()
        return
    if bulletin.body_format == Bulletin.HTML:
        words = html_to_text(sanitize(bulletin.body))
    else:
        words = html_to_text(markdown_to_html(bulletin.body))
    BulletinText.objects.update_or_create(
        bulletin_id=bulletin.pk, defaults={"subject": bulletin.subject, "text": words}
    )
