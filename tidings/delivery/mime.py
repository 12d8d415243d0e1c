"""Messages rendered once per send and filled in per recipient by joining bytes.

The bytes are ready for the wire: CRLF line ends and no line that starts with a dot, so the
SMTP client sends them after DATA as they are.

A template is the finished RFC 5322 message with named holes. Text written into the templates
carries holes as ``hole("name")`` markers; compile_message() encodes everything around them once
(headers folded, bodies quoted-printable) and fill() only joins bytes and the few values that
differ per recipient. Holes in a quoted-printable body sit between soft line breaks, so whatever
the value's length the encoded lines stay within the 76 characters RFC 2045 allows and the
decoded text is exactly the text with the value in place.
"""

from __future__ import annotations

import binascii
import html
import re
import secrets
from collections.abc import Mapping

from tidings.lib.headers import refuse_unsafe
from tidings.lib.mail import POLICY, wire_address

MARK = "\x00"
HOLE = re.compile("\x00([a-z_]+)\x00")
SOFT_BREAK = b"=\r\n"
FOLD = re.compile("\r\n[ \t]")

# How a value is written where its hole is.
RAW = "raw"  # headers and envelope: ASCII as given
QP = "qp"  # inside a quoted-printable text part
QP_HTML = "qp_html"  # inside a quoted-printable HTML part: escaped first


def hole(name: str) -> str:
    """Return the marker for a per-recipient value, to put into rendered text."""
    return f"{MARK}{name}{MARK}"


def _crlf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _qp(data: bytes) -> bytes:
    """Quoted-printable with CRLF, and no line starting with a dot (so no SMTP dot-stuffing)."""
    # A leading dot becomes "=2E" and a soft break, so the line stays within 76 characters.
    encoded = _crlf(binascii.b2a_qp(data, istext=True)).replace(b"\r\n.", b"\r\n=2E=\r\n")
    return b"=2E=\r\n" + encoded[1:] if encoded.startswith(b".") else encoded


class Template:
    """A message as a list of byte strings and (name, mode) holes."""

    def __init__(self, parts: list[bytes | tuple[str, str]]) -> None:
        merged: list[bytes | tuple[str, str]] = []
        for part in parts:
            if isinstance(part, bytes) and merged and isinstance(merged[-1], bytes):
                merged[-1] += part
            elif part != b"":
                merged.append(part)
        self.parts = merged
        self.holes = {p for p in merged if isinstance(p, tuple)}

    def fill(self, values: Mapping[str, str]) -> bytes:
        encoded = {key: encode_value(values[key[0]], key[1]) for key in self.holes}
        return b"".join(p if isinstance(p, bytes) else encoded[p] for p in self.parts)


def encode_value(value: str, mode: str) -> bytes:
    if mode == RAW:
        if value.isascii():
            return value.encode("ascii")
        # Only addresses are non-ASCII here: the domain as punycode, a non-ASCII local part as
        # UTF-8 (RFC 6532), which the worker sends only to a relay that offers SMTPUTF8.
        return wire_address(value)[0].encode()
    if mode == QP_HTML:
        value = html.escape(value)
    # Start and end on a soft line break: the value begins at column 0 and the text after it
    # does too, which is what compile_message() assumed when it encoded that text.
    return SOFT_BREAK + _qp(value.encode()) + SOFT_BREAK


def _split(text: str, mode: str, encode: object) -> list[bytes | tuple[str, str]]:
    """Split text at its holes, encoding the text between them with encode."""
    parts: list[bytes | tuple[str, str]] = []
    pieces = HOLE.split(text)
    for index, piece in enumerate(pieces):
        if index % 2:
            parts.append((piece, mode))
        elif piece:
            parts.append(encode(piece))  # type: ignore[operator]
    return parts


def header_lines(headers: list[tuple[str, str]]) -> list[bytes | tuple[str, str]]:
    """Encode headers; those with holes must be ASCII and are written as they are."""
    parts: list[bytes | tuple[str, str]] = []
    for name, value in headers:
        # Holes and folds (CRLF then a space) are the only control characters allowed here:
        # anything else would end the header and start another.
        refuse_unsafe(name, FOLD.sub(" ", HOLE.sub("", value)))
        if MARK in value:
            parts.append(f"{name}: ".encode())
            parts.extend(_split(value, RAW, lambda s: s.encode("ascii")))
            parts.append(b"\r\n")
        else:
            parts.append(POLICY.fold(name, value).encode("ascii"))
    return parts


def _body(text: str, mode: str) -> list[bytes | tuple[str, str]]:
    text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    return _split(text, mode, lambda s: _qp(s.encode()))


def compile_message(headers: list[tuple[str, str]], text: str, html_text: str) -> Template:
    """Return a multipart/alternative (text and HTML, quoted-printable) message template."""
    boundary = f"=_tidings_{secrets.token_hex(12)}"
    part_headers = (
        'Content-Type: text/{}; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    )
    parts: list[bytes | tuple[str, str]] = header_lines(headers)
    parts.append(
        b"MIME-Version: 1.0\r\n"
        + f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"\r\n\r\n'.encode()
    )
    parts.append(f"--{boundary}\r\n{part_headers.format('plain')}".encode())
    parts.extend(_body(text, QP))
    parts.append(f"\r\n--{boundary}\r\n{part_headers.format('html')}".encode())
    parts.extend(_body(html_text, QP_HTML))
    parts.append(f"\r\n--{boundary}--\r\n".encode())
    return Template(parts)
