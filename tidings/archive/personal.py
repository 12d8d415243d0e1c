"""Personal links never work in public: every public output of the archive passes through here.

A bulletin that reached a list (before lists got shared copies, forwarded by a subscriber, or
from another bulletin service run by Tidings) may carry one subscriber's manage, unsubscribe,
one-click or confirm links, a member's list unsubscribe link, a `/texts/mine/` link, a network
offer, and tracked links that count whoever clicks as that recipient. Pages, subjects (posts' and
bulletins'), names (authors', commenters', files'), search excerpts, feeds, mbox exports and
attachment downloads (their bytes and their names) are all written through this module: a
tracked link becomes its destination, the open image goes, and a personal link is removed with
a note. Done when output is written, so posts archived before this existed are covered too.

A link is known by its path on any host, in any case, with or without its trailing slash, and
also by the shape of the signed token it carries (`lib.tokens`): a path that moves, a link
without its scheme, or a token cut out of its link by a search excerpt is still caught. What
is checked is the link entity- and percent-decoded (a redirector such as Outlook's safe links
carries the whole link escaped in its query); a message is checked part by part after its
quoted-printable or base64 is decoded, and re-encoded.
"""

from __future__ import annotations

import base64
import codecs
import io
import quopri
import re
from collections.abc import Callable
from difflib import SequenceMatcher
from email import message_from_bytes
from email.generator import BytesGenerator
from email.header import Header, decode_header, make_header
from email.message import Message
from email.policy import compat32
from email.utils import collapse_rfc2231_value
from html import escape, unescape
from urllib.parse import unquote

REMOVED = "[personal link removed]"

# The signed tokens personal links carry (lib.tokens, lists.tokens, tracking.tokens).
TOKEN = re.compile(
    r"(?<![\w-])(?:"
    # sign_id: manage, unsubscribe, one-click, /texts/mine/. Its MAC (22 characters of base64)
    # has a capital, which tells it from a dated slug such as 2024-report-….
    r"\d{1,19}-[0-9a-z]{4,9}-(?=[\w-]{0,21}(?-i:[A-Z]))[\w-]{22}"
    r"|[\w.-]{8,}:[0-9a-z]{4,}:[\w-]{43}"  # signing.dumps: confirm, list member, offer, comments
    # A list's confirmation code; a recipient's tracking token. A letter among the 16 hex
    # digits tells it from a long number (a MAC of digits only is still caught by its path).
    r"|\d{1,19}[.-](?=[0-9]{0,15}[a-f])[0-9a-f]{16}"
    r"|[a-z]+\+\d{1,19}\.[0-9a-f]{8,16}(?=@)"  # signed local parts: unsubscribe+…, bounce+…
    r")(?![\w-])",
    re.I,
)
_HOST = r"(?:(?:https?:)?//[^\s/\"'<>]*)?"
_SEGMENT = r"[^\s/\"'<>?#]+"
# Tidings' personal paths, on whatever host (the base URL may have changed since), to the end
# of the link.
PERSONAL = re.compile(
    rf"{_HOST}/(?:subscriptions/(?:manage|unsubscribe|one-click|network)/{_SEGMENT}"
    rf"|subscriptions/\w+/confirm/{_SEGMENT}"
    rf"|lists/[\w-]+/(?:confirm|unsubscribe|reenable)/{_SEGMENT}"
    r"|lists/[\w-]+/[0-9a-f]{32}/unsubscribe/?\?[^\s\"'<>]*"  # a comment notice's ?t=
    rf"|texts/mine/{_SEGMENT}"
    rf"|t/[oc]/{_SEGMENT})"
    r"[^\s\"'<>]*",
    re.I,
)
CLICK = re.compile(rf"{_HOST}/t/c/{_SEGMENT}/(\d+)(?:/|(?![\w/]))", re.I)
OPEN = re.compile(rf"{_HOST}/t/o/{_SEGMENT}\.gif", re.I)
# Anything URL-shaped: checked whole, decoded, so what it carries escaped is seen too.
URL = re.compile(r"(?:\b[a-z][a-z0-9+.-]*:/+|\bwww\.)[^\s\"'<>]+", re.I)
ANCHOR = re.compile(r"<a\b[^>]*?\bhref=\"([^\"]*)\"[^>]*>(.*?)</a>", re.S | re.I)


def decoded(url: str) -> str:
    """Return a link as a browser would follow it: entities and percent-escapes undone."""
    url = unescape(url)
    for _ in range(3):  # escaped twice over is common in redirectors' query strings
        plain = unquote(url)
        if plain == url:
            break
        url = plain
    return url


def is_personal(url: str) -> bool:
    """Say whether a link (or any text) carries a personal path or a signed token."""
    url = decoded(url)
    return bool(PERSONAL.search(url) or TOKEN.search(url))


def _destinations(text: str) -> dict[int, str]:
    ids = {int(m.group(1)) for m in CLICK.finditer(unescape(text))}
    if not ids:
        return {}
    from tidings.tracking.models import Link

    return dict(Link.objects.filter(pk__in=ids).values_list("pk", "url"))


def _passes(text: str, found: dict[int, str], quote: Callable[[str], str]) -> str:
    text = CLICK.sub(lambda m: quote(found.get(int(m.group(1)), REMOVED)), text)
    text = OPEN.sub("", text)
    text = URL.sub(lambda m: REMOVED if is_personal(m.group(0)) else m.group(0), text)
    text = PERSONAL.sub(REMOVED, text)
    return TOKEN.sub(REMOVED, text)


def neutralize_text(text: str) -> str:
    """Return plain text with tracked links as their destination and personal ones removed."""
    if not text:
        return text
    return _passes(text, _destinations(text), str)


def neutralize_html(html: str) -> str:
    """Return sanitized HTML with tracked links pointing at their destination and personal
    links (and the open image) taken out, their text kept with a note."""
    if not html:
        return html
    found = _destinations(html)

    def anchor(match: re.Match[str]) -> str:
        href, inner = decoded(match.group(1)), match.group(2)
        if OPEN.search(href):
            return ""
        click = CLICK.fullmatch(href)
        if click:
            destination = found.get(int(click.group(1)))
            if destination is None or is_personal(destination):
                return f"{inner} {REMOVED}"
            return match.group(0).replace(match.group(1), escape(destination))
        if is_personal(href):
            return f"{inner} {REMOVED}"
        return match.group(0)

    return _passes(ANCHOR.sub(anchor, html), found, escape)


def neutralize_marked(text: str, start: str, stop: str) -> str:
    """Return a search engine's excerpt neutralized, keeping the match markers (start, stop)
    that still sit around text that was kept."""
    plain = text.replace(start, "").replace(stop, "")
    clean = neutralize_text(plain)
    if clean == plain:
        return text
    # Each highlight as (from, to) in the unmarked text.
    pairs, at, opened = [], 0, None
    for ch in text:
        if ch == start:
            opened = at
        elif ch == stop:
            if opened is not None:
                pairs.append((opened, at))
            opened = None
        else:
            at += 1
    opcodes = SequenceMatcher(None, plain, clean, autojunk=False).get_opcodes()
    kept = [(i1, i2, j1) for tag, i1, i2, j1, _ in opcodes if tag == "equal"]

    inserts: dict[int, str] = {}
    for begin, end in pairs:
        # A highlight stays only where its whole text was kept as it was.
        for i1, i2, j1 in kept:
            if i1 <= begin < end <= i2:
                a, b = j1 + begin - i1, j1 + end - i1
                inserts[a] = inserts.get(a, "") + start
                inserts[b] = stop + inserts.get(b, "")
    return "".join(inserts.get(i, "") + ch for i, ch in enumerate(clean)) + inserts.get(
        len(clean), ""
    )


# Headers a message's thread is rebuilt from, and its MIME structure: never rewritten.
KEPT_HEADERS = {
    "message-id",
    "in-reply-to",
    "references",
    "content-type",
    "content-transfer-encoding",
}
KEPT_LINES = re.compile(
    rb"(?im)^(?:message-id|in-reply-to|references|content-type):.*(?:\r?\n[ \t].*)*"
)


def _charset(part: Message) -> str:
    name = part.get_content_charset() or "us-ascii"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return "latin-1"


def _neutralize_payload(part: Message) -> bool:
    """Neutralize one leaf part's decoded content and re-encode it; say whether it changed."""
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes) or not data:
        return False
    maintype, subtype = part.get_content_maintype(), part.get_content_subtype()
    if maintype == "text":
        charset = _charset(part)
        text = data.decode(charset, "surrogateescape")
        clean = neutralize_html(text) if subtype == "html" else neutralize_text(text)
        if clean == text:
            return False
        try:
            new = clean.encode(charset, "surrogateescape")
        except UnicodeEncodeError:
            new = clean.encode("utf-8", "surrogateescape")
            part.set_param("charset", "utf-8")
    else:
        text = data.decode("latin-1")
        clean = neutralize_text(text)
        if clean == text:
            return False
        new = clean.encode("latin-1", "replace")
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    if encoding == "quoted-printable":
        part.set_payload(quopri.encodestring(new).decode("ascii"))
    elif encoding != "base64" and new.isascii():
        part.set_payload(new.decode("ascii"))
    else:
        del part["Content-Transfer-Encoding"]
        part["Content-Transfer-Encoding"] = "base64"
        part.set_payload(base64.encodebytes(new).decode("ascii"))
    return True


def _header_text(value: str) -> str:
    value = re.sub(r"\r?\n(?=[ \t])", "", str(value))
    try:
        return str(make_header(decode_header(value)))
    except Exception:  # a broken encoded word: read it as written
        return value


def _neutralize_headers(part: Message) -> bool:
    # File names first: read whole, a token split across RFC 2231 continuations is seen.
    changed = _neutralize_file_names(part)
    for name in dict.fromkeys(k.lower() for k in part):
        if name in KEPT_HEADERS:
            continue
        values = [_header_text(v) for v in part.get_all(name, [])]
        clean = [neutralize_text(v) for v in values]
        if clean == values:
            continue
        changed = True
        del part[name]
        for value in clean:
            part[name] = value if value.isascii() else Header(value, "utf-8").encode()
    return changed


# Where a part names its file (mail clients write both).
FILE_NAMES = {"content-type": "name", "content-disposition": "filename"}


def _file_name(part: Message, header: str) -> str:
    """Return a part's file name as a mail client reads it: RFC 2231 continuations joined,
    encoded words decoded."""
    value = part.get_param(FILE_NAMES[header], header=header)
    return "" if value is None else _header_text(collapse_rfc2231_value(value))


def _neutralize_file_names(part: Message) -> bool:
    """Neutralize a part's file names, the rest of their headers kept (the message's
    structure is read from Content-Type)."""
    changed = False
    for header, param in FILE_NAMES.items():
        name = _file_name(part, header)
        clean = neutralize_text(name)
        if clean != name:
            charset = None if clean.isascii() else "utf-8"
            part.set_param(param, clean, header=header, charset=charset)
            changed = True
    return changed


def _flatten(msg: Message) -> bytes:
    out = io.BytesIO()
    BytesGenerator(out, mangle_from_=False, policy=compat32).flatten(msg)
    return out.getvalue()


def _parts(msg: Message) -> list[Message]:
    return list(msg.walk())


def holds_personal(data: bytes) -> bool:
    """Say whether a message carries a personal link anywhere: a header, or any part as
    decoded from its quoted-printable or base64 (a forwarded message's parts included)."""
    msg = message_from_bytes(data, policy=compat32)
    for part in _parts(msg):
        for name, value in part.items():
            if name.lower() not in KEPT_HEADERS and is_personal(_header_text(value)):
                return True
        if any(is_personal(_file_name(part, header)) for header in FILE_NAMES):
            return True
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes) and is_personal(payload.decode("latin-1")):
            return True
    # Whatever the parser could not decode (a broken structure) is read as written.
    return is_personal(KEPT_LINES.sub(b"", data).decode("latin-1"))


def neutralize_message(data: bytes) -> bytes:
    """Return a raw message with every part and header neutralized and re-encoded in its own
    transfer encoding; a message that still holds a personal link after that (a structure too
    broken to read) is replaced by its headers and a note."""
    msg = message_from_bytes(data, policy=compat32)
    changed = False
    for part in _parts(msg):
        changed = _neutralize_headers(part) | changed
        if not part.is_multipart():
            changed = _neutralize_payload(part) | changed
    out = _flatten(msg) if changed else data
    if not holds_personal(out):
        return out
    note = Message()
    for name in ("From", "Date", "Subject", "Message-ID", "In-Reply-To", "References"):
        for value in msg.get_all(name, []):
            note[name] = value
    note["Content-Type"] = "text/plain; charset=us-ascii"
    note.set_payload("This message is not exported: it holds personal links.\n")
    return _flatten(note)


def neutralize_attachment(content_type: str, data: bytes) -> bytes:
    """Return an attachment's bytes fit to serve: a forwarded message neutralized part by
    part, text decoded and neutralized, any other file's personal links replaced in place."""
    maintype = content_type.split("/", 1)[0].lower()
    if maintype == "message":
        return neutralize_message(data)
    if maintype == "text":
        text = data.decode("utf-8", "surrogateescape")
        html = content_type.lower() == "text/html"
        clean = neutralize_html(text) if html else neutralize_text(text)
        return data if clean == text else clean.encode("utf-8", "surrogateescape")
    text = data.decode("latin-1")
    clean = neutralize_text(text)
    return data if clean == text else clean.encode("latin-1", "replace")
