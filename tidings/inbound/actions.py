from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from typing import Any

from django.db import connection, transaction

from tidings.inbound.models import InboundMessage

# Rows per INSERT statement, largest first: a batch is cut into these few shapes so that the
# driver parses each statement once and caches it (13 parameters a row stays far below
# SQLite's limit of 32,766).
INSERT_SHAPES = (128, 64, 32, 16, 8, 4, 2, 1)


@dataclass(frozen=True)
class Received:
    """One message as the SMTP server took it, before it is stored."""

    raw: bytes
    mail_from: str
    local_rcpts: list[str] = field(default_factory=list)
    captured_rcpts: list[str] = field(default_factory=list)
    peer: str = ""
    helo: str = ""


def _subject(raw: bytes) -> str:
    """Return the Subject, unfolded and decoded; cheap, since the SMTP server calls it."""
    end = raw.find(b"\r\n\r\n")
    lines = (raw if end < 0 else raw[:end]).split(b"\r\n")
    for i, line in enumerate(lines):
        if line[:8].lower() == b"subject:":
            value = line[8:]
            for more in lines[i + 1 :]:
                if more[:1] not in (b" ", b"\t"):
                    break
                value += more
            text = value.decode("utf-8", "replace").strip()
            if "=?" in text:
                # A damaged encoded word is kept as it came.
                with contextlib.suppress(Exception):
                    text = str(make_header(decode_header(text)))
            return text[:500]
    return ""


def _row(received: Received) -> InboundMessage:
    return InboundMessage(
        raw=received.raw,
        size=len(received.raw),
        mail_from=received.mail_from,
        local_rcpts=received.local_rcpts,
        captured_rcpts=received.captured_rcpts,
        captured=bool(received.captured_rcpts),
        # Captured mail has nothing left to route unless a local recipient came with it.
        state=InboundMessage.NEW if received.local_rcpts else InboundMessage.DONE,
        peer=received.peer[:100],
        helo=received.helo[:255],
        subject=_subject(received.raw),
    )


# Fields whose Python values the database driver can't take as they are.
PREPARED_TYPES = {"DateTimeField", "JSONField"}


def _insert(rows: list[InboundMessage]) -> list[int]:
    """Insert rows with one multi-row INSERT … RETURNING; return their ids, in order.

    bulk_create() spends some 150 µs per row preparing each field on this hot path (one
    thread, holding the interpreter lock the SMTP event loop needs); this spends a fraction."""
    meta = InboundMessage._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    prepared = [f.get_internal_type() in PREPARED_TYPES for f in fields]
    params: list[Any] = []
    for row in rows:
        for f, prepare in zip(fields, prepared, strict=True):
            value = f.pre_save(row, add=True)
            params.append(f.get_db_prep_save(value, connection) if prepare else value)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    table, pk = connection.ops.quote_name(meta.db_table), connection.ops.quote_name(meta.pk.column)
    # Table and column names come from the model; values are parameters.
    values = ", ".join([one] * len(rows))
    sql = f"INSERT INTO {table} ({columns}) VALUES {values} RETURNING {pk}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [pk for (pk,) in cursor.fetchall()]


def store_messages(batch: Sequence[Received]) -> list[int]:
    """Store received messages in one transaction; return their ids, in order.

    The SMTP server answers 250 to each only after this returns (group commit)."""
    rows = [_row(received) for received in batch]
    ids: list[int] = []
    with transaction.atomic():
        start = 0
        for shape in INSERT_SHAPES:
            while len(rows) - start >= shape:
                ids += _insert(rows[start : start + shape])
                start += shape
    assert len(ids) == len(rows), "the database did not return the new rows' ids"
    return ids


def store_message(
    raw: bytes,
    *,
    mail_from: str,
    local_rcpts: list[str],
    captured_rcpts: list[str],
    peer: str = "",
    helo: str = "",
) -> InboundMessage:
    """Store one received message durably (tests and imports; the SMTP server batches)."""
    (pk,) = store_messages([Received(raw, mail_from, local_rcpts, captured_rcpts, peer, helo)])
    return InboundMessage.objects.get(pk=pk)
