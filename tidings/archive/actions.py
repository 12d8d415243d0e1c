"""Every write to the archive: posts from accepted mail, comments from readers."""

from __future__ import annotations

import hashlib
from email.message import EmailMessage
from email.policy import compat32

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from tidings.archive import text
from tidings.archive.models import Comment, Post
from tidings.inbound.models import InboundMessage
from tidings.lists.models import MailingList

SLUG_LENGTH = 32
MAX_NAME = 100
MAX_COMMENT = 10000


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


def archive_post(
    mailing_list: MailingList, message: EmailMessage, *, inbound: InboundMessage | None = None
) -> Post:
    """Archive a message on the list once; archiving it again returns the same Post."""
    bare_id = text.bare_message_id(text.header(message, "Message-ID"))
    slug = post_slug(bare_id, b"" if bare_id else raw_bytes(message, inbound))
    existing = Post.objects.filter(mailing_list=mailing_list, slug=slug).first()
    if existing is not None:
        return existing

    received = inbound.received_at if inbound is not None else timezone.now()
    author_name, author_email = text.author(message)
    post = Post(
        mailing_list=mailing_list,
        inbound=inbound,
        message_id=f"<{bare_id}>"[:500] if bare_id else "",
        slug=slug,
        subject=text.header(message, "Subject")[:500],
        author_name=author_name,
        author_email=author_email,
        date=text.message_date(message, received),
        body_text=text.body_text(message),
        in_reply_to=text.first_message_id(text.header(message, "In-Reply-To"))[:500],
    )
    try:
        with transaction.atomic():
            post.save()
    except IntegrityError:  # archived concurrently by another worker: theirs wins
        return Post.objects.get(mailing_list=mailing_list, slug=slug)
    return post


def add_comment(post: Post, *, name: str, email: str, body: str) -> Comment:
    """Add a reader's comment, published or held as the list's moderation setting says."""
    name = text.clean(name).strip()
    email = text.clean(email).strip()
    body = text.clean(body).replace("\r\n", "\n").strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["Please enter your name."]
    elif len(name) > MAX_NAME:
        errors["name"] = [f"Please keep your name to {MAX_NAME} characters."]
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = ["Please enter a valid email address."]
    if not body:
        errors["body"] = ["Please write a comment."]
    elif len(body) > MAX_COMMENT:
        errors["body"] = [f"Please keep your comment to {MAX_COMMENT} characters."]
    if errors:
        raise ValidationError(errors)

    held = post.mailing_list.comment_moderation != MailingList.OPEN
    return Comment.objects.create(
        post=post,
        name=name,
        email=email,
        body=body,
        status=Comment.HELD if held else Comment.PUBLISHED,
    )
