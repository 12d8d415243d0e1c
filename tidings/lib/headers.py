"""Values that may end up in a mail header: one line of text that every reader shows as written.

A CR or LF in a topic name, a sender name or a subject would start a new header (`Bcc:` …) in
every message that carries it; so would U+2028 and U+2029 for every reader that splits lines
the way Unicode does (Python's `email` among them: it refused the header and the message was
lost). NUL and the other control characters break parsers and the database; a lone surrogate
cannot be written as UTF-8 at all; the bidi overrides and isolates make a name read as
something else (a From that shows another address). One rule, `unsafe_character()`, refuses
them all where a value enters Tidings (model fields and so console forms, API schemas, the
CLI), and the header writer refuses them again (`refuse_unsafe()`), so a value that slipped
past (an old row) fails its own message, not a worker.

Format characters that text needs stay allowed: the zero-width joiner and non-joiner (emoji
sequences, Persian), the left-to-right and right-to-left marks (names in Arabic and Hebrew next
to Latin), the soft hyphen.
"""

from __future__ import annotations

import re
import unicodedata
from email.errors import HeaderParseError
from email.header import decode_header, make_header

from django.core.exceptions import ValidationError

MESSAGE = (
    "must be one line without control characters (such as line breaks, line separators or NUL)"
)

# Unicode categories never allowed: controls (C0, DEL, C1 with NEL), the line and paragraph
# separators, surrogates (no UTF-8 form; a JSON "\ud800" becomes one).
UNSAFE_CATEGORIES = frozenset({"Cc", "Zl", "Zp", "Cs"})
# The bidi embeddings, overrides and isolates (the "Trojan Source" set, CVE-2021-42574): a
# one-line name never needs them, and in a From or a subject they reorder what a reader sees.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def unsafe_character(value: str) -> str | None:
    """Return the first character of value that no header may carry, or None."""
    for char in value:
        if unicodedata.category(char) in UNSAFE_CATEGORIES or char in BIDI_CONTROLS:
            return char
    return None


# The name callers knew first; the rule is now wider than Cc.
control_character = unsafe_character


def describe(char: str) -> str:
    """Return "U+2028 (LINE SEPARATOR)": the code point, and its name when it has one."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X} ({name})" if name else f"U+{ord(char):04X}"


def check_line(value: str) -> str:
    """Return value when it is a header-safe line, else raise ValueError (for pydantic)."""
    char = unsafe_character(value)
    if char is not None:
        raise ValueError(f"{MESSAGE}; found {describe(char)}")
    return value


def validate_line(value: str) -> None:
    """Django field validator: refuse unsafe characters with a field error."""
    try:
        check_line(value)
    except ValueError as error:
        message = str(error)
        raise ValidationError(message[:1].upper() + message[1:], code="control_character") from None


# What str.splitlines() splits on, and so what Python's email refuses in a header it is given.
LINE_BREAKS = re.compile("\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


def one_line(value: str) -> str:
    """Return value with each line break (CRLF, LF, U+2028 …) made a space.

    For mail Tidings relays rather than writes: a post's own subject or author may decode to a
    line separator, and refusing the header would lose someone else's post.
    """
    return LINE_BREAKS.sub(" ", value)


def printable_line(value: str) -> str:
    """Return value with no unsafe character: controls and line breaks become spaces, the bidi
    controls and lone surrogates go.

    For text from elsewhere that becomes a header (a feed item's title as a bulletin's subject):
    an Arabic headline with a right-to-left embedding is news, not an error.
    """
    kept = []
    for char in value:
        if char in BIDI_CONTROLS or unicodedata.category(char) == "Cs":
            continue
        kept.append(" " if unicodedata.category(char) in UNSAFE_CATEGORIES else char)
    return "".join(kept)


class HeaderValueError(ValueError):
    """A value that would break out of its header line; the message is not written."""


def _decoded(value: str) -> str:
    """Return value with its RFC 2047 encoded words decoded (formataddr() writes a From's
    display name as one), or value itself when they do not decode."""
    if "=?" not in value:
        return value
    try:
        return str(make_header(decode_header(value)))
    except (HeaderParseError, LookupError, UnicodeError, ValueError):
        return value


def refuse_unsafe(name: str, value: str) -> None:
    """Raise HeaderValueError when a header's value carries an unsafe character, as written or
    once its encoded words are decoded (what a reader's mail program shows)."""
    char = unsafe_character(value) or unsafe_character(_decoded(value))
    if char is not None:
        raise HeaderValueError(
            f"the {name} header would carry the control character {describe(char)}"
        )
