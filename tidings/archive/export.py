"""The archive read by machines: Atom feeds and mbox files."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from tidings.archive.models import Comment, Post
from tidings.archive.personal import neutralize_message
from tidings.archive.render import plain, render_comment, render_html, render_text
from tidings.lists.models import MailingList

# Message-IDs look like addresses, but an export without them loses its threads.
THREAD_HEADERS = {b"message-id", b"in-reply-to", b"references"}
ADDRESS_BYTES = re.compile(rb"([A-Za-z0-9._%+=-]+)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")


# The <updated> of a feed with no entry yet: a fixed moment, never "now" (which changes on
# every fetch and makes readers think the feed changed).
EMPTY_FEED_UPDATED = datetime(2000, 1, 1, tzinfo=UTC)


class ArchiveFeed(Atom1Feed):
    """Atom with each entry's full HTML in <content type="html">, and an <updated> that only
    moves when an entry does."""

    def latest_post_date(self) -> datetime:
        if not self.items:
            return EMPTY_FEED_UPDATED
        return super().latest_post_date()

    def add_item_elements(self, handler, item):  # type: ignore[no-untyped-def]
        super().add_item_elements(handler, item)
        if item.get("content"):
            handler.addQuickElement("content", item["content"], {"type": "html"})


def absolute(path: str) -> str:
    return settings.BASE_URL + path


def atom_response(request: HttpRequest, feed: ArchiveFeed) -> HttpResponse:
    response = HttpResponse(content_type="application/atom+xml; charset=utf-8")
    feed.write(response, "utf-8")
    return response


def post_html(post: Post, reveal: bool) -> str:
    if post.body_html:
        return str(render_html(post.body_html, reveal=reveal))
    return str(render_text(post.body_text, reveal=reveal))


def list_feed(request: HttpRequest, mailing_list: MailingList, posts: list[Post]) -> ArchiveFeed:
    """Return the Atom feed of a list's latest posts."""
    reveal = bool(request.user.is_authenticated)
    home = absolute(reverse("archive:index", args=[mailing_list.name]))
    feed = ArchiveFeed(
        title=mailing_list.display_name or mailing_list.name,
        link=home,
        description=mailing_list.description,
        feed_url=absolute(reverse("archive:feed", args=[mailing_list.name])),
        feed_guid=home,
        language="en",
    )
    for post in posts:
        url = absolute(reverse("archive:post", args=[mailing_list.name, post.slug]))
        feed.add_item(
            title=plain(post.subject or "(no subject)", reveal=reveal),
            link=url,
            description=None,  # type: ignore[arg-type]  # no <summary>: <content> has it all
            content=post_html(post, reveal),
            author_name=plain(post.author_name, reveal=reveal) or "someone",
            pubdate=post.date,
            updateddate=post.date,
            unique_id=url,
        )
    return feed


def comments_feed(request: HttpRequest, post: Post, comments: list[Comment]) -> ArchiveFeed:
    """Return the Atom feed of a post's published comments."""
    reveal = bool(request.user.is_authenticated)
    url = absolute(reverse("archive:post", args=[post.mailing_list.name, post.slug]))
    feed = ArchiveFeed(
        title=f"Comments on: {plain(post.subject or '(no subject)', reveal=reveal)}",
        link=url,
        description="",
        feed_url=absolute(
            reverse("archive:comments_feed", args=[post.mailing_list.name, post.slug])
        ),
        feed_guid=url + "#comments",
        language="en",
    )
    for comment in comments:
        link = f"{url}#comment-{comment.pk}"
        who = plain(comment.name, reveal=reveal)  # typed by a reader: anything, a link too
        feed.add_item(
            title=f"{who} on {plain(post.subject, reveal=reveal)}"[:200],
            link=link,
            description=None,  # type: ignore[arg-type]  # no <summary>: <content> has it all
            content=str(render_comment(comment.body, reveal=reveal)),
            author_name=who,
            pubdate=comment.created,
            updateddate=comment.created,
            unique_id=link,
        )
    return feed


def message_bytes(post: Post) -> bytes:
    if post.raw:
        return bytes(post.raw)
    if post.inbound_id is not None and post.inbound is not None:
        return bytes(post.inbound.raw)
    return b""


def mbox_entry(post: Post, reveal: bool) -> bytes:
    """Return one message in mboxrd form: a From_ line, ">From " escaped, a blank line after;
    personal links neutralized in every part (and re-encoded as the part was)."""
    data = neutralize_message(message_bytes(post).replace(b"\r\n", b"\n"))
    if not reveal:
        data = hide_bytes(data)
    data = re.sub(rb"(?m)^(>*From )", rb">\1", data)
    when = post.date.strftime("%a %b %d %H:%M:%S %Y").encode()
    sender = b"archive@tidings"
    return b"From " + sender + b" " + when + b"\n" + data.rstrip(b"\n") + b"\n\n"


def _shorten(match: re.Match[bytes]) -> bytes:
    local, domain = match.group(1), match.group(2)
    keep = max(1, min(3, len(local) // 2))
    return local[:keep] + b"...@" + domain


def hide_bytes(data: bytes) -> bytes:
    """Shorten every address in a raw message as the pages do, in ASCII; Message-IDs stay."""
    head, sep, body = data.partition(b"\n\n")
    lines, name = [], b""
    for line in head.split(b"\n"):
        if line[:1] not in (b" ", b"\t"):
            name = line.split(b":", 1)[0].strip().lower()
        lines.append(line if name in THREAD_HEADERS else ADDRESS_BYTES.sub(_shorten, line))
    return b"\n".join(lines) + sep + ADDRESS_BYTES.sub(_shorten, body)


def mbox_stream(posts: Iterable[Post], reveal: bool) -> Iterator[bytes]:
    for post in posts:
        yield mbox_entry(post, reveal)


def mbox_response(posts: QuerySet[Post], filename: str, *, reveal: bool) -> StreamingHttpResponse:
    """Stream posts as an mbox download."""
    rows = posts.select_related("inbound").iterator(chunk_size=200)
    response = StreamingHttpResponse(mbox_stream(rows, reveal), content_type="application/mbox")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
