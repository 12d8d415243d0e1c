"""Address helpers shared by the SMTP server, the router and the delivery worker."""

from __future__ import annotations

import re
from email.headerregistry import UnstructuredHeader
from email.policy import EmailPolicy
from email.utils import getaddresses, parseaddr, quote
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


def list_id_header(label: str, list_id: str) -> str:
    """Return a List-Id value (RFC 2919): the label as a quoted phrase, then <list_id>.

    A quote or a backslash in the label is escaped: unescaped, a name such as
    `News" <other.example.org> "` ended the phrase early and brought in an id of its own, and
    a reader's filter sorted the mail by it.
    """
    return f'"{quote(label)}" <{list_id}>'


def fold_list_id(name: str, value: str) -> str | None:
    """Return a List-Id written by list_id_header() folded, the id outside any encoded word.

    Folded as free text, a label that is not ASCII took the id into its encoded words
    (`=?utf-8?q?=22Presse_=C3=A9=22_=3Cid=3E?=`), and filters by list id found none. None when
    value is not such a List-Id (Python writes it).
    """
    phrase, bracket, rest = value.rpartition("<")
    phrase = phrase.strip()
    quoted = len(phrase) >= 2 and phrase[0] == phrase[-1] == '"'
    if not bracket or not rest.endswith(">") or not quoted:
        return None
    if any("\ud800" <= char <= "\udfff" for char in value):
        return None
    label = re.sub(r"\\(.)", r"\1", phrase[1:-1])
    prefix = f"{name}: "
    if label.isascii() and "=?" not in label:
        return fold_header(name, f'"{quote(label)}" <{rest}')
    words = _phrase_words(label, MAX_LINE - len(prefix))
    return prefix + "\r\n ".join(words) + f"\r\n <{rest}\r\n"


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


def _phrase_words(text: str, first_room: int) -> list[str]:
    """Split a display name into encoded words, each ending after one of its spaces if it can.

    RFC 2047 readers ignore the whitespace between encoded words, Python's address parser
    reads it as a space: a word that ends with the name's own space reads the same to both
    (give or take a space), where a word cut mid-name read as two words to Python.
    """
    overhead = len("=?utf-8?q??=")
    words: list[str] = []
    current: list[str] = []
    room = min(first_room, MAX_ENCODED_WORD)
    for char in text:
        piece = _q_char(char)
        while current and overhead + sum(map(len, current)) + len(piece) > room:
            cut = max((i + 1 for i, p in enumerate(current) if p == "_"), default=len(current))
            words.append(f"=?utf-8?q?{''.join(current[:cut])}?=")
            current = current[cut:]
            room = min(MAX_LINE - 1, MAX_ENCODED_WORD)
        current.append(piece)
    words.append(f"=?utf-8?q?{''.join(current)}?=")
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


PLAIN_NAME = re.compile("[A-Za-z0-9 ]+")
# Headers of mailboxes that Tidings writes itself (a name, an address), never Python's folder.
ADDRESS_HEADERS = {"from", "sender", "reply-to", "to", "cc"}


def mailbox(name: str, address: str, room: int = MAX_LINE - len("From: ")) -> str:
    """Return `name <address>` for an address header, its first line within room characters.

    An ASCII name that fits is written as it is, or quoted when it has more than letters, digits
    and spaces; any other becomes UTF-8 encoded words, one a line, in which every special
    character is encoded too. Python's folder, which rewrote long names, left `:`, `,` and `<`
    of a name bare beside its encoded words: `From: =?utf-8?…?= Bcc: x@attacker.example <…>`
    reads as a group holding the attacker's address.
    """
    if not name:
        return address
    plain = f"{name} <{address}>" if PLAIN_NAME.fullmatch(name) else f'"{quote(name)}" <{address}>'
    if name.isascii() and "=?" not in name and len(plain) <= room:
        return plain
    return "\r\n ".join(_phrase_words(name, room)) + f"\r\n <{address}>"


def fold_mailboxes(name: str, mailboxes: list[tuple[str, str]]) -> str:
    """Return "Name: mailbox, mailbox" folded as mailbox() folds each, ending in CRLF."""
    written = f"{name}: "
    column = len(written)
    for index, (display_name, address) in enumerate(mailboxes):
        # Room for a comma after it; on a line of its own, after the fold's space.
        room = (MAX_LINE - column if index == 0 else MAX_LINE - 1) - 1
        piece = mailbox(display_name, address, room)
        if index and ("\r\n" in piece or column + 2 + len(piece) + 1 > MAX_LINE):
            written += ",\r\n " + piece
        elif index:
            written += ", " + piece
        else:
            written += piece
        column = len(written) - written.rfind("\n") - 1
    return written + "\r\n"


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
            if "=?" in value and self._free_text(name, value):
                # Python decodes the encoded words of a value it is given: a post whose subject
                # says "=?utf-8?q?…?=" as text was decoded a second time. Given as encoded
                # words itself, it reads back as the text it is.
                value = " ".join(_encoded_words(value, MAX_ENCODED_WORD))
        return super().header_store_parse(name, value)  # type: ignore[no-any-return]

    def _mailboxes(self, name: str, value: Any) -> list[tuple[str, str]] | None:
        """The (name, address) pairs of an address header set by code, when it is only
        mailboxes with ASCII addresses; else None (Python writes it)."""
        if name.lower() not in ADDRESS_HEADERS or not hasattr(value, "groups"):
            return None
        if any(group.display_name is not None for group in value.groups):
            return None
        pairs = [(a.display_name, a.addr_spec) for a in value.addresses]
        if not pairs or not all(address.isascii() for _, address in pairs):
            return None
        return pairs

    def fold(self, name: str, value: str) -> str:
        if name.lower() == "list-id" and (list_id := fold_list_id(name, str(value))):
            return list_id
        if self._free_text(name, value):
            return fold_header(name, str(value))
        mailboxes = self._mailboxes(name, value)
        if mailboxes is not None:
            return fold_mailboxes(name, mailboxes)
        return super().fold(name, value)

    def fold_binary(self, name: str, value: str) -> bytes:
        if name.lower() == "list-id" and (list_id := fold_list_id(name, str(value))):
            return list_id.encode("ascii")
        if self._free_text(name, value):
            return fold_header(name, str(value)).encode("ascii")
        mailboxes = self._mailboxes(name, value)
        if mailboxes is not None:
            return fold_mailboxes(name, mailboxes).encode("ascii")
        return super().fold_binary(name, value)


# The one policy every message Tidings writes goes through: CRLF, lines of 76 characters (and
# quoted-printable bodies to match), free text headers folded without changing their spaces.
POLICY = HeaderPolicy(linesep="\r\n", max_line_length=MAX_LINE)
