"""Split an mbox file at its real message boundaries, streaming, with a size limit.

mbox writers disagree ("mboxo" escapes only `From ` at a line's start, "mboxrd" every `>*From `,
some escape nothing), so a body line starting with "From " is common in real archives. A line
starts a new message only when it looks like a From_ line (`From <sender> <asctime date>`),
follows a blank line and is followed by a header line; the file's first line starts the first
message whatever its From_ line holds. `>From ` lines are
unescaped one level (mboxrd; an mboxo reader does the same to its own escapes).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO

FROM_LINE = re.compile(
    # The sender may hold spaces (pipermail writes "andy at example.com"); the date ends it.
    rb"^From .+? +(?:\w{3} +)?(\w{3}) +(\d{1,2}) +(\d{1,2}:\d{2}(?::\d{2})?)"
    rb"(?: +[-+]?\w+)? +(\d{4})\s*$"
)
HEADER = re.compile(rb"^[!-9;-~]+:")  # a field name (printable, no colon), then a colon
ESCAPED = re.compile(rb"^>+From ")


@dataclass
class Entry:
    number: int  # 1 for the file's first message
    from_line: bytes
    raw: bytes  # the message, unescaped; only its start when it was over the limit
    size: int  # bytes in the file
    oversized: bool = False

    @property
    def sent(self) -> datetime | None:
        """The date of the From_ line (UTC), if it has one."""
        match = FROM_LINE.match(self.from_line.rstrip(b"\r\n"))
        if not match:
            return None
        month, day, clock, year = (g.decode() for g in match.groups())
        clock = clock if clock.count(":") == 2 else clock + ":00"
        try:
            parsed = datetime.strptime(f"{month} {day} {clock} {year}", "%b %d %H:%M:%S %Y")
        except ValueError:
            return None
        return parsed.replace(tzinfo=UTC)


def split(stream: BinaryIO, max_bytes: int) -> Iterator[Entry]:
    """Yield the messages of an mbox; one over max_bytes keeps only its first max_bytes.

    Text before the first From_ line (no mbox at all, or junk) comes as entry 0 when it is not
    blank, so the caller can report it rather than drop it unseen."""
    number, from_line = 0, b""
    lines: list[bytes] = []
    size, kept, oversized = 0, 0, False
    previous_blank = True
    pending: bytes | None = None  # a From_ candidate waiting for the next line to decide

    def entry() -> Entry:
        body = b"".join(lines)
        while body.endswith((b"\n\n", b"\r\n\r\n")):  # the separator's blank line
            body = body[:-2] if body.endswith(b"\r\n\r\n") else body[:-1]
        return Entry(number, from_line, body, size, oversized)

    def add(line: bytes) -> None:
        nonlocal size, kept, oversized
        size += len(line)
        if ESCAPED.match(line):
            line = line[1:]
        if kept + len(line) > max_bytes:
            oversized = True
            return
        kept += len(line)
        lines.append(line)

    for line in stream:
        if pending is not None:
            candidate, pending = pending, None
            if HEADER.match(line):
                if number or any(x.strip() for x in lines):
                    yield entry()
                number += 1
                from_line, lines, size, kept, oversized = candidate, [], 0, 0, False
            else:
                add(candidate)  # a body line that happens to start with "From "
        first = not number and not lines
        if (first and line.startswith(b"From ")) or (
            previous_blank and FROM_LINE.match(line.rstrip(b"\r\n"))
        ):
            pending = line
            previous_blank = False
            continue
        add(line)
        previous_blank = not line.strip()
    if pending is not None:
        add(pending)
    if number or any(x.strip() for x in lines):
        yield entry()
