"""Reading received mail: decoded headers, Message-IDs, dates, the body text and attachments."""

from __future__ import annotations

import codecs
import re
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.header import decode_header
from email.message import EmailMessage, Message
from email.policy import default
from email.utils import parseaddr, parsedate_to_datetime

from django.utils import timezone

from tidings.lib.html import html_to_text

# A Date header further ahead than this is a sender's broken clock, not a real date.
FUTURE_SLACK = timedelta(days=1)


def clean(text: str) -> str:
    """Return text safe to store: smuggled raw bytes decoded as UTF-8, NULs removed."""
    # Headers with raw 8-bit bytes arrive as surrogate escapes, which no database accepts.
    data = text.encode("utf-8", "surrogateescape")
    return data.decode("utf-8", "replace").replace("\x00", "")


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode with the declared charset; undeclared or false UTF-8 is read as Windows-1252."""
    try:
        codec = codecs.lookup(charset or "ascii").name
    except LookupError:
        codec = "ascii"
    if codec not in ("ascii", "utf-8"):
        try:
            return data.decode(codec, errors="replace")
        except LookupError:  # charset=base64 and the like: codecs, but not text encodings
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:  # Latin-1 text sent without a charset, or labelled UTF-8
        return data.decode("cp1252", errors="replace")


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words, leaving the text as it is if they are broken."""
    try:
        chunks = decode_header(value)
    except (LookupError, ValueError, UnicodeError, AssertionError):
        return value
    return "".join(
        data if isinstance(data, str) else decode_bytes(data, charset) for data, charset in chunks
    )


def _raw_header(msg: Message, name: str) -> str:
    for key, value in msg.raw_items():
        if key.lower() == name.lower():
            return clean(str(value))
    return ""


def header(msg: Message, name: str) -> str:
    """Return a header decoded to one line of text, or "" when it is missing."""
    try:
        value = str(msg.get(name) or "")
    except Exception:  # the header parser has bugs on hostile input; fall back to the raw value
        value = decode_words(_raw_header(msg, name))
    return " ".join(clean(value).split())


def first_message_id(value: str) -> str:
    """Return the first <id> in a header like In-Reply-To, or the stripped value."""
    match = re.search(r"<[^<>\s]+>", value)
    return match.group(0) if match else value.strip()


def bare_message_id(value: str) -> str:
    return first_message_id(value).strip().strip("<>").strip()


def message_ids(value: str) -> list[str]:
    """Return every <id> in a header like References, in order, as "<id>"."""
    return list(dict.fromkeys(m[:500] for m in re.findall(r"<[^<>\s]+>", value)))


REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|aw|sv|antw|fwd?|wg)\s*(?:\[\d+\])?\s*:\s*|\[[^\]]*\]\s*)+", re.I
)


def is_reply_subject(subject: str) -> bool:
    """Say whether the subject, without list tags, starts with "Re:" or a translation of it."""
    without_tags = re.sub(r"^\s*(?:\[[^\]]*\]\s*)+", "", subject)
    return bool(re.match(r"(?:re|aw|sv|antw)\s*(?:\[\d+\])?\s*:", without_tags, re.I))


def subject_key(subject: str) -> str:
    """Return the subject without "Re:", "Fwd:" and [tags], lower-cased, for threading."""
    return " ".join(REPLY_PREFIX.sub("", subject).lower().split())[:200]


def author(msg: Message) -> tuple[str, str]:
    """Return the From name and address; the name never contains an address."""
    # The raw header, because the parsed one drops "(Name)" comments, which old archives use.
    value = " ".join(_raw_header(msg, "From").split())
    # Pipermail hides addresses as "bob at example.org (Bob)".
    value = re.sub(r"^([^\s@<>()]+) at ([^\s@<>()]+\.[^\s@<>()]+)", r"\1@\2", value)
    name, address = parseaddr(value)
    name = decode_words(name).strip().strip('"').strip()
    if not name or "@" in name or " at " in name:
        name = re.split(r"@| at ", name or address)[0].strip()
    return name[:200], address[:320]


def message_date(msg: Message, fallback: datetime) -> datetime:
    """Return the Date header as an aware datetime, or fallback if missing, bad or in the future."""
    value = header(msg, "Date")
    if not value:
        return fallback
    try:
        date = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return fallback
    if timezone.is_naive(date):  # "-0000": the zone is unknown, so take it as UTC
        date = date.replace(tzinfo=UTC)
    if date > timezone.now() + FUTURE_SLACK:
        return fallback
    return date


def part_text(part: Message) -> str:
    """Decode a text part's payload with its charset, replacing what does not decode."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    text = decode_bytes(payload, part.get_content_charset())
    return clean(text.replace("\r\n", "\n").replace("\r", "\n"))


def _is_attachment(part: Message) -> bool:
    return part.get_content_disposition() == "attachment"


def _split_unparsed(msg: Message) -> list[EmailMessage]:
    """Return the parts of a multipart the parser could not split, as in boundary="<<x>>"."""
    # The stdlib unquotes parameters as if they were <addresses>, so it looks for the wrong
    # boundary; split on the boundary exactly as written instead.
    boundary = msg.get_param("boundary", unquote=False)
    payload = msg.get_payload()
    if not isinstance(boundary, str) or not isinstance(payload, str):
        return []
    boundary = boundary.strip().strip('"')
    chunks = re.split(rf"(?m)^--{re.escape(boundary)}(?:--)?[ \t]*\r?$", payload)
    data = [chunk.lstrip("\r\n").encode("utf-8", "surrogateescape") for chunk in chunks[1:]]
    return [
        message_from_bytes(chunk, _class=EmailMessage, policy=default) for chunk in data if chunk
    ]


def _find_body(msg: EmailMessage) -> Message | None:
    if msg.get_content_maintype() == "multipart" and not msg.is_multipart():
        for part in _split_unparsed(msg):
            found = _find_body(part)
            if found is not None:
                return found
    for preference in (("plain",), ("html",)):
        try:
            body = msg.get_body(preferencelist=preference)
        except Exception:  # get_body trusts the MIME structure; a broken one falls through
            body = None
        if body is not None:
            return body
    # get_body only follows the standard layouts; look everywhere before giving up.
    parts = [p for p in msg.walk() if not p.is_multipart() and not _is_attachment(p)]
    for wanted in ("text/plain", "text/html"):
        for part in parts:
            if part.get_content_type() == wanted:
                return part
    for part in parts:
        if part.get_content_maintype() == "text":
            return part
    return None


def body_text(msg: EmailMessage) -> str:
    """Return the readable text of a message: its text/plain part, else its HTML as text."""
    return body(msg)[0]


def _alternative_html(msg: EmailMessage) -> Message | None:
    """Return the HTML of a multipart/alternative body: what its readers saw (a bulletin's
    formatting and links), where the text part is only the fallback."""
    try:
        html = msg.get_body(preferencelist=("html",))
        plain = msg.get_body(preferencelist=("plain",))
    except Exception:  # a broken structure: the plain search below copes
        return None
    if html is None or plain is None or html is plain:
        return None
    return html


def body(msg: EmailMessage) -> tuple[str, str]:
    """Return the message's text, and its raw HTML when it is shown from an HTML part (an
    HTML-only message, or the HTML alternative of a multipart/alternative one)."""
    html = _alternative_html(msg)
    if html is not None:
        # Shown from the HTML; the text part stays the text (search, excerpts, feeds' titles).
        plain = _find_body(msg)
        text = part_text(plain).strip("\n") if plain is not None else ""
        return text or html_to_text(part_text(html)).strip("\n"), part_text(html)
    part = _find_body(msg)
    if part is None:
        return "", ""
    text = part_text(part)
    if part.get_content_type() == "text/html":
        return html_to_text(text).strip("\n"), text
    return text.strip("\n"), ""


def safe_filename(name: str, fallback: str) -> str:
    """Return a file name without directories, control characters or quotes."""
    name = clean(name).replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r'[\x00-\x1f\x7f"<>:|?*;]+', "_", name).strip(" .")
    return name[:200] or fallback


def attachments(msg: EmailMessage) -> list[tuple[str, str, bytes]]:
    """Return (file name, content type, data) of each attachment, never the body itself."""
    body_part = _find_body(msg)
    found: list[tuple[str, str, bytes]] = []
    for part in msg.walk():
        if part.is_multipart() or part is body_part:
            continue
        try:
            filename = part.get_filename() or ""
        except Exception:  # a broken RFC 2231 parameter
            filename = ""
        maintype = part.get_content_maintype()
        if not (_is_attachment(part) or filename or maintype not in ("text", "message")):
            continue
        try:
            data = part.get_payload(decode=True)
        except Exception:  # undecodable transfer encoding: keep what was sent
            data = None
        if not isinstance(data, bytes):
            payload = part.get_payload()
            data = payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""
        n = len(found) + 1
        content_type = part.get_content_type()[:255]
        found.append((safe_filename(decode_words(filename), f"attachment-{n}"), content_type, data))
    return found
