"""A text message as the network carries it: GSM-7 or UCS-2, split into segments.

One SMS carries 140 octets: 160 characters of the GSM 03.38 alphabet (7 bits each) or 70 UTF-16
code units. A longer text goes as several segments, each starting with a User Data Header that
names the message (a reference number), the number of parts and this part's place (3GPP TS
23.040, information element 00), which leaves 153 GSM-7 characters or 67 code units per
segment. A character of the GSM extension table (€, [, ], {, }, \\, ~, ^, |) takes two septets
and is never split from its escape; a character outside the Basic Multilingual Plane (an emoji)
takes a surrogate pair and is never split either. Over SMPP, GSM-7 goes unpacked (one septet
per octet, data_coding 0) and UCS-2 as big-endian UTF-16 (data_coding 8).
"""

from __future__ import annotations

from dataclasses import dataclass

# GSM 03.38, the basic table: position = septet value.
BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
ESCAPE = 0x1B
# The extension table: reached through the escape septet.
EXTENSION = {"\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C, "~": 0x3D,
             "]": 0x3E, "|": 0x40, "€": 0x65}  # fmt: skip
_BASIC = {char: septet for septet, char in enumerate(BASIC) if septet != ESCAPE}
_DECODE = {septet: char for char, septet in _BASIC.items()}
_DECODE_EXTENSION = {septet: char for char, septet in EXTENSION.items()}

GSM7, UCS2 = 0, 8  # SMPP data_coding
SINGLE = {GSM7: 160, UCS2: 70}  # septets or code units in one SMS
PART = {GSM7: 153, UCS2: 67}  # ... in one segment of a longer text
# Carriers and handsets cope badly with very long texts; the composer allows this many.
MAX_SEGMENTS = 10


class TooLong(ValueError):
    pass


@dataclass(frozen=True)
class Encoded:
    coding: int  # GSM7 or UCS2 (SMPP data_coding)
    units: list[bytes]  # the text, one entry per character (1-2 octets GSM-7; 2-4 UCS-2)

    @property
    def length(self) -> int:
        """Septets (GSM-7) or UTF-16 code units (UCS-2)."""
        per = 1 if self.coding == GSM7 else 2
        return sum(len(unit) for unit in self.units) // per

    @property
    def coding_name(self) -> str:
        return "GSM-7" if self.coding == GSM7 else "UCS-2"


def is_gsm7(text: str) -> bool:
    return all(char in _BASIC or char in EXTENSION for char in text)


def encode(text: str) -> Encoded:
    """The text in GSM-7 when every character has a septet, else in UCS-2."""
    if is_gsm7(text):
        units = [bytes([_BASIC[c]]) if c in _BASIC else bytes([ESCAPE, EXTENSION[c]]) for c in text]
        return Encoded(GSM7, units)
    return Encoded(UCS2, [c.encode("utf-16-be") for c in text])


def decode(data: bytes, coding: int) -> str:
    """Read an SMS body (unpacked GSM-7, UCS-2/UTF-16, or Latin-1 for other codings)."""
    if coding == UCS2:
        return data.decode("utf-16-be", errors="replace")
    if coding == GSM7:
        chars, escaped = [], False
        for septet in data:
            if escaped:
                chars.append(_DECODE_EXTENSION.get(septet, " "))
                escaped = False
            elif septet == ESCAPE:
                escaped = True
            else:
                chars.append(_DECODE.get(septet, "?"))
        return "".join(chars)
    return data.decode("latin-1")


def split(text: str, reference: int) -> tuple[int, list[bytes]]:
    """Return (data_coding, short messages): one without a header when the text fits in one
    SMS, else segments each with a concatenation header carrying reference (mod 256)."""
    encoded = encode(text)
    per = 1 if encoded.coding == GSM7 else 2
    if encoded.length <= SINGLE[encoded.coding]:
        return encoded.coding, [b"".join(encoded.units)]
    limit = PART[encoded.coding] * per
    bodies: list[bytes] = []
    current = b""
    for unit in encoded.units:
        if len(current) + len(unit) > limit:
            bodies.append(current)
            current = b""
        current += unit
    bodies.append(current)
    if len(bodies) > 255:
        raise TooLong(f"A text message can't have {len(bodies)} segments (255 at most).")
    header = bytes([0x05, 0x00, 0x03, reference % 256, len(bodies)])
    return encoded.coding, [header + bytes([n]) + body for n, body in enumerate(bodies, 1)]


def count(text: str) -> tuple[int, int, str]:
    """(characters as the network counts them, segments, coding name): what the composer shows."""
    encoded = encode(text)
    length = encoded.length
    if length <= SINGLE[encoded.coding]:
        return length, 1 if length else 0, encoded.coding_name
    return length, len(split(text, 0)[1]), encoded.coding_name


def check(text: str) -> None:
    """Raise TooLong when a text would take more than MAX_SEGMENTS segments."""
    length, segments, coding = count(text)
    if segments > MAX_SEGMENTS:
        raise TooLong(
            f"This text takes {segments} segments ({length} {coding} characters); "
            f"{MAX_SEGMENTS} is the most a text message may take."
        )
