"""Address helpers shared by the SMTP server, the router and the delivery worker."""

from __future__ import annotations

from email.headerregistry import UnstructuredHeader
from email.policy import EmailPolicy
from email.utils import getaddresses, parseaddr
from typing import Any

import idna

from tidings.lib.headers import one_line


def normalize(address: str) -> str:
    """Return an address with its domain lowercased (local parts are case-sensitive in theory)."""
    local, _, domain = address.strip().rpartition("@")
    if not local:
        return address.strip()
    return f"{local}@{domain.lower()}"


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].lower()


def header_addresses(values: list[str]) -> list[str]:
    """Return the bare addresses in header values like From, Sender, To."""
    return [normalize(a).lower() for _, a in getaddresses(values) if "@" in a]


def sender_name(value: str) -> str:
    name, address = parseaddr(value)
    return name or address


def wire_address(address: str) -> tuple[str, bool]:
    """Return an address as it goes into an SMTP envelope, and whether it needs SMTPUTF8.

    An internationalized domain is written as its punycode (IDNA 2008, UTS 46 mapping), which
    every relay takes; a non-ASCII local part has no ASCII form and needs a relay that offers
    SMTPUTF8 (RFC 6531). Raises ValueError for a domain that IDNA refuses.
    """
    local, at, domain = address.rpartition("@")
    if not at:
        return address, not address.isascii()
    if not domain.isascii():
        try:
            domain = idna.encode(domain, uts46=True).decode("ascii")
        except idna.IDNAError as error:
            raise ValueError(f"the domain of {address!r} is not a valid IDN: {error}") from None
    return f"{local}@{domain}", not local.isascii()


# --- headers as RFC 5322 and RFC 2047 want them ------------------------------------------------

# Lines of at most this many characters: RFC 5322 asks for 78, RFC 2045 for 76 in
# quoted-printable bodies, which Python's email package encodes to the policy's length.
MAX_LINE = 76
# RFC 2047: an encoded word is at most 75 characters.
MAX_ENCODED_WORD = 75
# Free text headers, folded here; Python's own folder drops the space between two encoded words
# ("new 🤝" comes back as "new🤝"), so these never go through it.
UNSTRUCTURED = {"subject", "comments", "x-original-subject", "thread-topic"}


def _q_char(char: str) -> str:
    if char == " ":
        return "_"
    if char.isascii() and (char.isalnum() or char in "!*+-/"):
        return char
    return "".join(f"={b:02X}" for b in char.encode())


def _encoded_words(text: str, first_room: int) -> list[str]:
    """Split text into UTF-8 Q encoded words: the first fits first_room, the others a line."""
    words: list[str] = []
    current = ""
    room = min(first_room, MAX_ENCODED_WORD)
    overhead = len("=?utf-8?q??=")
    for char in text:
        piece = _q_char(char)
        if current and overhead + len(current) + len(piece) > room:
            words.append(f"=?utf-8?q?{current}?=")
            current = ""
            room = min(MAX_LINE - 1, MAX_ENCODED_WORD)
        current += piece
    if current or not words:
        words.append(f"=?utf-8?q?{current}?=")
    return words


def fold_header(name: str, value: str) -> str:
    """Return "Name: value" folded into lines of at most 76 characters, ending in CRLF.

    Unfolding it (RFC 5322: removing each CRLF before a space) gives back exactly the value:
    plain text folds before a space it already had, never adding or losing one; text that is
    not ASCII becomes UTF-8 encoded words of at most 75 characters that carry their own spaces,
    so the whitespace between them, which decoders ignore, changes nothing.
    """
    value = " ".join(value.replace("\r", " ").replace("\n", " ").split(" "))
    prefix = f"{name}: "
    if value.isascii() and "=?" not in value:
        lines: list[str] = []
        line = prefix
        for index, word in enumerate(value.split(" ")):
            piece = word if index == 0 else " " + word
            if index and len(line) + len(piece) > MAX_LINE and line.strip() != prefix.strip():
                lines.append(line)
                line = piece  # the continuation starts with the space it had
            else:
                line += piece
        lines.append(line)
        return "\r\n".join(lines) + "\r\n"
    words = _encoded_words(value, MAX_LINE - len(prefix))
    return prefix + "\r\n ".join(words) + "\r\n"


class HeaderPolicy(EmailPolicy):
    """Python's SMTP policy, with free text headers folded by fold_header().

    Python's folder drops the space between encoded words and may fold right after the colon
    (so the value comes back with a leading space); every header Python treats as free text
    (Subject, List-Unsubscribe, Archived-At, any X- header) is folded here instead.
    """

    def _free_text(self, name: str, value: str) -> bool:
        if any("\udc80" <= char <= "\udcff" for char in str(value)):
            # Undecodable bytes of a received header: Python writes them back as they came.
            return False
        if name.lower() in UNSTRUCTURED:
            return True
        return issubclass(self.header_factory[name], UnstructuredHeader)  # type: ignore[index]

    def header_store_parse(self, name: str, value: Any) -> tuple[str, Any]:
        # Python refuses a value with a line break (U+2028 included) and the relay lost the
        # post: a post's subject or author may decode to one. Made a space instead, it stays
        # one line; values from Tidings' own records were refused when they were entered.
        if isinstance(value, str):
            value = one_line(value)
        return super().header_store_parse(name, value)  # type: ignore[no-any-return]

    def fold(self, name: str, value: str) -> str:
        if self._free_text(name, value):
            return fold_header(name, str(value))
        return super().fold(name, value)

    def fold_binary(self, name: str, value: str) -> bytes:
        if self._free_text(name, value):
            return fold_header(name, str(value)).encode("ascii")
        return super().fold_binary(name, value)


# The one policy every message Tidings writes goes through: CRLF, lines of 76 characters (and
# quoted-printable bodies to match), free text headers folded without changing their spaces.
POLICY = HeaderPolicy(linesep="\r\n", max_line_length=MAX_LINE)
