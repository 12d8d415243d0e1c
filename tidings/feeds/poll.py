"""Poll a watch: fetch it, find what is new or changed, and turn that into bulletins.

`poll_watch()` is one step for one watch, used by the worker's periodic job, `tidings
poll-feeds` and the console's "poll now". A feed's items are known by GUID: a new GUID is a new
bulletin (sent at once or held as a draft, per the watch's mode); a known GUID whose content
changed becomes a draft for review, never sent on its own. A page is known by the hash of its
main text. The first successful poll only records what is already there. Any failure is
recorded as the watch's last error and never escapes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import xml.sax
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html import escape
from html.parser import HTMLParser
from typing import Any

import feedparser
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from tidings.bulletins.actions import create_bulletin, send_bulletin
from tidings.bulletins.models import Bulletin
from tidings.feeds.actions import notify_reviewers
from tidings.feeds.fetch import FetchError, Response, fetch
from tidings.feeds.models import Item, Watch
from tidings.lib.headers import printable_line
from tidings.lib.html import html_to_text, sanitize

log = logging.getLogger("tidings.feeds")

PAGE_UPDATED = "This information has recently been updated, and is now available."
# Elements whose text is not the page's content.
SKIPPED = {"script", "style", "nav", "header", "footer", "noscript", "template", "svg", "head"}
SUBJECT_MAX = 300


class FeedError(Exception):
    """The response is not a feed we can read; the message says why."""


@dataclass
class Entry:
    guid: str
    title: str
    link: str
    content: str  # HTML, not yet sanitized
    content_hash: str


@dataclass
class PollResult:
    not_modified: bool = False
    primed: int = 0  # items recorded without a bulletin on the first poll
    sent: list[Bulletin] = field(default_factory=list)
    drafts: list[Bulletin] = field(default_factory=list)
    # Entries left out, each with why (nothing to say, or one that could not be made into a
    # bulletin); the others of the poll go on.
    skipped: list[str] = field(default_factory=list)
    error: str = ""


def _hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _squash(text: str) -> str:
    return " ".join(text.split())


# --- feeds -----------------------------------------------------------------------------------


def _benign(exc: Exception) -> bool:
    """Whether feedparser's complaint still leaves a trustworthy parse (encoding, media type)."""
    return isinstance(exc, (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType))


def _entry(guid: str, title: str, link: str, content: str) -> Entry:
    title = _squash(title)
    link = link.strip()
    if not link.lower().startswith(("http://", "https://")):
        link = ""  # a javascript: or data: "link" is never shown or mailed
    guid = guid or link or "hash:" + _hash(title, link)
    return Entry(
        guid=guid[:2000],
        title=title,
        link=link,
        content=content,
        content_hash=_hash(title, link, _squash(content)),
    )


def _json_feed(response: Response) -> list[Entry]:
    """Return the entries of a JSON Feed (jsonfeed.org), which feedparser does not read."""
    try:
        data = json.loads(response.body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise FeedError(f"The JSON feed could not be read: {exc}.") from None
    if not isinstance(data, dict) or not str(data.get("version", "")).startswith(
        "https://jsonfeed.org/version/"
    ):
        raise FeedError("This JSON document is not a JSON Feed.")
    entries = []
    for raw in data.get("items") or []:
        if not isinstance(raw, dict):
            continue
        content = raw.get("content_html") or escape(str(raw.get("content_text") or ""))
        link = str(raw.get("url") or "")
        entries.append(_entry(str(raw.get("id") or ""), str(raw.get("title") or ""), link, content))
    return entries


def _unique(entries: list[Entry]) -> list[Entry]:
    seen: set[str] = set()
    unique = []
    for entry in entries:
        if entry.guid not in seen:
            seen.add(entry.guid)
            unique.append(entry)
    return unique


def parse_feed(response: Response, base: str = "") -> list[Entry]:
    """Return the feed's entries in the feed's order, or raise FeedError.

    Relative links and GUIDs resolve against `base` (the watched URL): GUIDs stay the same when
    the feed starts redirecting elsewhere.
    """
    if "json" in response.content_type or response.body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{":
        return _unique(_json_feed(response))
    parsed: Any = feedparser.parse(
        response.body,
        response_headers={
            "content-type": response.headers.get("content-type", "application/xml"),
            "content-location": base or response.url,
        },
        sanitize_html=False,
        resolve_relative_uris=True,
    )
    head = response.body.lstrip(b"\xef\xbb\xbf \t\r\n")[:100].lower()
    looks_html = "html" in response.content_type or head.startswith((b"<!doctype html", b"<html"))
    if not parsed.get("version") and looks_html:
        raise FeedError(
            "This is an HTML page, not an RSS or Atom feed; watch it as a page instead?"
        )
    exc = parsed.get("bozo_exception")
    if parsed.get("bozo") and exc is not None and not _benign(exc):
        if isinstance(exc, xml.sax.SAXParseException):
            raise FeedError(
                f"The feed is not well-formed XML (line {exc.getLineNumber()}: {exc.getMessage()})."
            )
        raise FeedError(f"The feed could not be read: {exc}.")
    if not parsed.get("version"):
        kind = response.content_type or "unknown content type"
        raise FeedError(f"This is not an RSS or Atom feed ({kind}); watch it as a page instead?")
    entries = []
    for raw in parsed.entries:
        contents = raw.get("content") or [{"value": raw.get("summary", "")}]
        entries.append(
            _entry(
                raw.get("id", ""),
                raw.get("title", ""),
                raw.get("link", ""),
                contents[0].get("value", ""),
            )
        )
    return _unique(entries)


# --- pages -----------------------------------------------------------------------------------


class _MainText(HTMLParser):
    """Collect the text of the body, of <main> and of <article>, without boilerplate elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.skip = 0
        self.inside = {"main": 0, "article": 0}
        self.text: dict[str, list[str]] = {"body": [], "main": [], "article": []}
        self.in_title = False
        self.title: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self.in_title = True
        if tag in SKIPPED:
            self.skip += 1
        elif tag in self.inside:
            self.inside[tag] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if tag in SKIPPED:
            self.skip = max(0, self.skip - 1)
        elif tag in self.inside:
            self.inside[tag] = max(0, self.inside[tag] - 1)

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title.append(data)
        if self.skip:
            return
        self.text["body"].append(data)
        for tag, depth in self.inside.items():
            if depth:
                self.text[tag].append(data)


def page_text(html: str) -> tuple[str, str]:
    """Return (title, main text) of an HTML page: <main>, else <article>, else the body."""
    parser = _MainText()
    parser.feed(html)
    parser.close()
    for part in ("main", "article", "body"):
        text = _squash(" ".join(parser.text[part]))
        if text:
            break
    return _squash("".join(parser.title)), text


def _decode(response: Response) -> str:
    match = re.search(r"charset=([\w.-]+)", response.headers.get("content-type", ""), re.I)
    try:
        return response.body.decode(match.group(1) if match else "utf-8", errors="replace")
    except LookupError:
        return response.body.decode("utf-8", errors="replace")


# --- bulletins -------------------------------------------------------------------------------


def _subject(title: str, content: str) -> str:
    # A feed's text, not ours: what no header may carry is taken out rather than refused.
    subject = title or _squash(html_to_text(sanitize(content)))[:80]
    subject = _squash(printable_line(subject)) or "New item"
    return subject[:SUBJECT_MAX]


def _as_html(content: str) -> str:
    """Return the content as HTML; plain text (many RSS descriptions) keeps its paragraphs."""
    if re.search(r"</?[a-zA-Z][^>]*>", content):
        return content
    paragraphs = re.split(r"\n\s*\n", content.strip())
    return "\n".join(
        "<p>" + "<br>".join(escape(line) for line in p.splitlines()) + "</p>" for p in paragraphs
    )


def _body(content: str, link: str, lead: str = "", title: str = "") -> str:
    parts = [f"<p>{escape(lead)}</p>"] if lead else []
    if content.strip():
        parts.append(sanitize(_as_html(content)))
    if link:
        parts.append(f'<p><a href="{escape(link)}">{escape(link)}</a></p>')
    if not parts and title:
        # An entry with only a title (many alert feeds): the title is the news.
        parts.append(f"<p>{escape(title)}</p>")
    return sanitize("\n".join(parts))


def _empty(entry: Entry) -> bool:
    """Whether an entry has nothing to say: no title, no text, no link."""
    text = _squash(html_to_text(sanitize(entry.content))) if entry.content.strip() else ""
    return not (entry.title or text or entry.link)


def _make_bulletin(watch: Watch, subject: str, body: str, *, send: bool) -> Bulletin:
    bulletin = create_bulletin(
        watch.topic.account, subject=subject, body=body, topics=[watch.topic], body_format="html"
    )
    if send:
        send_bulletin(bulletin)
    else:
        notify_reviewers(watch, bulletin)
    return bulletin


def _poll_feed(watch: Watch, response: Response, result: PollResult) -> None:
    entries = parse_feed(response, base=watch.url)
    now = timezone.now()
    known = {item.guid: item for item in watch.items.all()}
    # A burst of new GUIDs is more likely a feed that renumbered its items than news: hold
    # them for review rather than mail subscribers a batch of old items.
    fresh = sum(1 for entry in entries if entry.guid not in known)
    auto = watch.mode == Watch.AUTO_SEND and fresh <= settings.FEEDS_MAX_AUTO_SEND
    if not watch.primed:
        # The first poll: what is already there is history, not news.
        Item.objects.bulk_create(
            Item(
                watch=watch,
                guid=entry.guid,
                title=entry.title[:500],
                link=entry.link[:2000],
                content_hash=entry.content_hash,
            )
            for entry in reversed(entries)
            if entry.guid not in known
        )
        result.primed = len(entries)
        return
    # Feeds list the newest first; bulletins go out oldest first.
    for entry in reversed(entries):
        item = known.get(entry.guid)
        if item is not None and item.content_hash == entry.content_hash:
            continue
        if _empty(entry):
            # Nothing to send. Remembered, so it is reported once, not on every poll.
            Item.objects.update_or_create(
                watch=watch, guid=entry.guid, defaults={"content_hash": entry.content_hash}
            )
            result.skipped.append(f"an entry with no title, text or link ({entry.guid[:80]})")
            continue
        try:
            # A savepoint each: one entry that can't become a bulletin fails alone.
            with transaction.atomic():
                _new_or_changed(watch, entry, item, auto, now, result)
        except (ValidationError, ValueError) as exc:
            log.warning("watch %s: entry %s skipped: %s", watch.pk, entry.guid, exc)
            reason = " ".join(getattr(exc, "messages", [str(exc)]))
            result.skipped.append(f"{entry.title or entry.guid[:80]!r}: {reason}")


def _new_or_changed(
    watch: Watch, entry: Entry, item: Item | None, auto: bool, now: datetime, result: PollResult
) -> None:
    """Make the bulletin for a new or edited entry, and remember the entry."""
    subject = _subject(entry.title, entry.content)
    if item is None:
        send = auto
        body = _body(entry.content, entry.link, title=entry.title)
        bulletin = _make_bulletin(watch, subject, body, send=send)
        Item.objects.create(
            watch=watch,
            guid=entry.guid,
            title=entry.title[:500],
            link=entry.link[:2000],
            content_hash=entry.content_hash,
            bulletin=bulletin,
        )
    else:
        # An edited item is a correction: a person decides whether it goes out again.
        send = False
        body = _body(entry.content, entry.link, title=entry.title)
        bulletin = _make_bulletin(watch, subject, body, send=False)
        item.title, item.link = entry.title[:500], entry.link[:2000]
        item.content_hash, item.bulletin, item.last_changed_at = (
            entry.content_hash,
            bulletin,
            now,
        )
        item.save(update_fields=["title", "link", "content_hash", "bulletin", "last_changed_at"])
    (result.sent if send else result.drafts).append(bulletin)


def _poll_page(watch: Watch, response: Response, result: PollResult) -> None:
    if "html" in response.content_type or not response.content_type:
        title, text = page_text(_decode(response))
    else:
        title, text = "", response.body.hex()
    content_hash = _hash(text)
    if content_hash == watch.content_hash:
        return
    first = not watch.primed
    watch.content_hash = content_hash
    item, _ = Item.objects.get_or_create(
        watch=watch, guid=watch.url[:2000], defaults={"content_hash": content_hash}
    )
    item.title, item.content_hash = (title or watch.url)[:500], content_hash
    if first:
        item.save(update_fields=["title", "content_hash"])
        result.primed += 1
        return
    send = watch.mode == Watch.AUTO_SEND
    body = _body("", watch.url, lead=PAGE_UPDATED)
    bulletin = _make_bulletin(watch, _subject(title or watch.url, ""), body, send=send)
    item.bulletin, item.last_changed_at = bulletin, timezone.now()
    item.save(update_fields=["title", "content_hash", "bulletin", "last_changed_at"])
    (result.sent if send else result.drafts).append(bulletin)


def poll_watch(watch: Watch) -> PollResult:
    """Fetch one watch and act on what changed; record the outcome on the watch."""
    result = PollResult()
    now = timezone.now()
    try:
        response = fetch(watch.url, etag=watch.etag, last_modified=watch.last_modified)
        if response.status == 304:
            result.not_modified = True
            Watch.objects.filter(pk=watch.pk).update(last_checked_at=now, last_error="")
            watch.last_checked_at, watch.last_error = now, ""
            return result
        with transaction.atomic():
            if watch.kind == Watch.FEED:
                _poll_feed(watch, response, result)
            else:
                _poll_page(watch, response, result)
            watch.etag = response.headers.get("etag", "")[:500]
            watch.last_modified = response.headers.get("last-modified", "")[:100]
            # Entries left out are told where the watch's last problem is shown.
            skipped = "; ".join(result.skipped)
            watch.last_checked_at = now
            watch.last_error = f"Skipped {skipped}"[:2000] if skipped else ""
            if result.sent or result.drafts or not watch.primed:
                watch.last_changed_at = now
            watch.primed = True
            watch.save(
                update_fields=[
                    "etag",
                    "last_modified",
                    "content_hash",
                    "last_checked_at",
                    "last_changed_at",
                    "last_error",
                    "primed",
                ]
            )
    except (FetchError, FeedError) as exc:
        result.error = str(exc)
    except Exception as exc:
        # One broken watch must not stop the others; the trace goes to the log.
        log.exception("polling watch %s (%s) failed", watch.pk, watch.url)
        result.error = f"Unexpected error: {type(exc).__name__}: {exc}"
    if result.error:
        result.sent, result.drafts = [], []
        watch.last_checked_at, watch.last_error = now, result.error
        Watch.objects.filter(pk=watch.pk).update(last_checked_at=now, last_error=result.error)
    return result


def poll_due(now: Any = None, limit: int = 50) -> int:
    """Poll the enabled watches not checked for TIDINGS_FEEDS_POLL_EVERY seconds; return how many.

    Each watch is claimed with a conditional UPDATE of its last check time, so two workers never
    poll the same watch at once.
    """
    now = now or timezone.now()
    due = Q(last_checked_at__isnull=True) | Q(
        last_checked_at__lte=now - timedelta(seconds=settings.FEEDS_POLL_EVERY)
    )
    watches = list(
        Watch.objects.filter(due, enabled=True)
        .select_related("topic__account")
        .order_by(F("last_checked_at").asc(nulls_first=True), "pk")[:limit]
    )
    polled = 0
    for watch in watches:
        claimed = Watch.objects.filter(pk=watch.pk, last_checked_at=watch.last_checked_at).update(
            last_checked_at=now
        )
        if claimed != 1:
            continue
        poll_watch(watch)
        polled += 1
    return polled
