"""The delivery worker: claim a chunk of due rows, fill in each message, send, record outcomes.

One chunk is one lease. First attempts are leased as an id range above the send's cursor (a
`Lease` row; the rows stay `queued`); retries are leased row by row (`sending`, lease_until).
Each row is written once more, by its outcome, in the transaction that drops its lease. A
worker killed mid-chunk leaves its leases behind; when they expire another worker takes the
rows back. Only a message whose transfer had finished when the worker died can therefore
reach its recipient twice, and it carries the same Message-ID both times (Message-IDs are
derived from the row).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import (
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    transaction,
)
from django.db.models import Case, F, Value, When
from django.utils import timezone

from tidings.delivery import signals
from tidings.delivery.compose import Composer, Row, Screened, composer_for
from tidings.delivery.limits import RateLimiter, parse_limits
from tidings.delivery.models import Delivery, Lease, Send
from tidings.delivery.smtp import Outcome, Outgoing, Pool, Relay, configured_relay
from tidings.delivery.verp import verp_address
from tidings.lib.mail import wire_address
from tidings.lib.tokens import short_mac

log = logging.getLogger("tidings.delivery")

T = TypeVar("T")
COLUMNS = ("id", "send_id", "address", "subscriber_id", "topic_id", "attempts")


@dataclass
class Chunk:
    claimed: int = 0
    rows: dict[int, Row] = field(default_factory=dict)
    # What goes on the wire: Outgoing messages (email) or a channel's own (texts.sender).
    outgoing: list[Any] = field(default_factory=list)
    leases: list[int] = field(default_factory=list)
    # When each send began: a temporary failure past TIDINGS_DELIVERY_MAX_AGE is final.
    started: dict[int, datetime] = field(default_factory=dict)


def backoff(attempts: int) -> timedelta:
    """Return how long to wait before attempt number attempts+1: 1, 2, 4 … minutes, at most 6 h."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


def message_id(send_id: int, delivery_id: int) -> str:
    """Return the Message-ID of one delivery: the same on every attempt."""
    ident = f"{send_id}.{delivery_id}"
    return f"<t{ident}.{short_mac('message-id', ident, 8)}@{settings.MAIL_DOMAIN}>"


@dataclass
class Claim:
    rows: list[Row] = field(default_factory=list)
    # Range leases (first attempts) to delete when the rows' outcomes are recorded.
    leases: list[int] = field(default_factory=list)


def claim(limit: int, lease_seconds: int, channel: str = Send.EMAIL) -> Claim:
    """Lease up to limit due deliveries of running sends of a channel to this worker.

    First attempts are leased as a range of ids above the send's cursor (one small write per
    chunk); retries and rows whose range a dead worker left are leased row by row.
    """
    now = timezone.now()
    until = now + timedelta(seconds=lease_seconds)
    notices_first = Case(When(kind=Send.NOTICE, then=Value(0)), default=Value(1))
    active = list(
        Send.objects.filter(state=Send.SENDING, channel=channel)
        .order_by(notices_first, F("served_at").asc(nulls_first=True), "id")
        .values_list("id", flat=True)
    )
    claimed = Claim()
    if not active:
        return claimed
    with transaction.atomic():
        # A worker that died mid-chunk left its range leased: take it back once it expires.
        for lease in (
            Lease.objects.filter(send_id__in=active, lease_until__lt=now)
            .select_for_update(skip_locked=True)
            .order_by("id")[:4]
        ):
            rows = list(
                Delivery.objects.filter(
                    send_id=lease.send_id,
                    id__gte=lease.first_id,
                    id__lte=lease.last_id,
                    state=Delivery.QUEUED,
                )
                .order_by("id")
                .values_list(*COLUMNS)
            )
            if not rows:
                lease.delete()
                continue
            Lease.objects.filter(pk=lease.pk).update(lease_until=until)
            claimed.leases.append(lease.pk)
            claimed.rows = [Row(*r) for r in rows]
            return claimed
        retries: list[tuple[Any, ...]] = []
        for send_id in active:
            due = Delivery.objects.filter(send_id=send_id)
            for query in (
                # Retries that a dead worker left leased, then deferred rows now due.
                due.filter(state=Delivery.SENDING, lease_until__lt=now),
                due.filter(
                    state__in=[Delivery.DEFERRED, Delivery.THROTTLED], next_attempt_at__lte=now
                ),
            ):
                if len(retries) >= limit:
                    break
                retries += list(
                    query.select_for_update(skip_locked=True)
                    .order_by("id")
                    .values_list(*COLUMNS)[: limit - len(retries)]
                )
        if retries:
            Delivery.objects.filter(id__in=[r[0] for r in retries]).update(
                state=Delivery.SENDING, lease_until=until
            )
            claimed.rows = [Row(*r) for r in retries]
            return claimed
        # First attempts, fairly: notices first (confirmations, moderation, test sends), then
        # the sends served longest ago (new ones first of all), several sends to a chunk. A
        # list post or a small bulletin waits at most one chunk of a large send, and the large
        # send fills what the small ones leave. A send's row lock orders concurrent claims (a
        # second worker waits for it rather than idling: claims are short).
        taken: list[tuple[Any, ...]] = []
        for send_id in active:
            if len(taken) >= limit:
                break
            cursor = (
                Send.objects.select_for_update()
                .filter(pk=send_id, state=Send.SENDING)
                .values_list("cursor", flat=True)
                .first()
            )
            if cursor is None:
                continue
            rows = list(
                Delivery.objects.filter(send_id=send_id, state=Delivery.QUEUED, id__gt=cursor)
                .order_by("id")
                .values_list(*COLUMNS)[: limit - len(taken)]
            )
            if not rows:
                continue
            first, last = rows[0][0], rows[-1][0]
            Send.objects.filter(pk=send_id).update(cursor=last, served_at=now)
            lease = Lease.objects.create(
                send_id=send_id, first_id=first, last_id=last, lease_until=until
            )
            claimed.leases.append(lease.pk)
            taken += rows
        claimed.rows = [Row(*r) for r in taken]
    return claimed


class Composers:
    """The sends a worker has seen lately, each with its composer (see delivery.compose)."""

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self.sends: OrderedDict[int, Composer] = OrderedDict()
        self.limiter = RateLimiter(parse_limits(settings.RATE_LIMITS))

    def load(self, send_ids: set[int]) -> None:
        missing = send_ids - self.sends.keys()
        for send in Send.objects.filter(id__in=missing):
            self.sends[send.pk] = composer_for(send)
        while len(self.sends) > self.size:
            self.sends.popitem(last=False)


@dataclass
class Prepared:
    chunk: Chunk
    # Recipients who left since the snapshot, rows over a rate limit, rows that can't be sent.
    cancelled: list[int] = field(default_factory=list)
    held: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)


def email(row: Row, data: bytes) -> Outgoing:
    """A row's message as the SMTP client sends it, from its signed return path."""
    rcpt, smtputf8 = wire_address(row.address)
    return Outgoing(row.id, verp_address(row.id), rcpt, data, smtputf8)


Wrap = Callable[[Row, bytes], Any]


def prepare(rows: list[Row], composers: Composers, wrap: Wrap = email) -> Prepared:
    """Return the chunk's finished messages and what becomes of the rows not sent.

    A row whose message can't be written (a value that slipped past validation, an address the
    relay can't take) fails alone, with the reason: the rest of the chunk goes out, and the
    worker lives on to send the next one.
    """
    composers.load({r.send_id for r in rows})
    by_send: dict[int, list[Row]] = {}
    for row in rows:
        by_send.setdefault(row.send_id, []).append(row)
    screened = Screened()
    for send_id, send_rows in by_send.items():
        found = composers.sends[send_id].screen(send_rows)
        screened.cancelled |= found.cancelled
        screened.shared |= found.shared
    chunk = Chunk()
    prepared = Prepared(chunk)
    for send_id in by_send:
        chunk.started[send_id] = composers.sends[send_id].send.created
    for row in rows:
        if not composers.limiter.allow(row.address):
            prepared.held.append(row.id)
            continue
        if row.id in screened.cancelled:
            prepared.cancelled.append(row.id)
            continue
        try:
            data = composers.sends[row.send_id].compose(row, row.id in screened.shared)
            outgoing = wrap(row, data)
        except Exception as error:  # any failure is this row's alone
            log.warning(
                "delivery %s not written: %s",
                row.id,
                error,
                extra={"send": row.send_id, "delivery": row.id},
            )
            prepared.failed[row.id] = f"message could not be written: {error}"[:2000]
            continue
        chunk.rows[row.id] = row
        chunk.outgoing.append(outgoing)
    return prepared


# A leased row is `queued` (first attempt, leased by range) or `sending` (a retry).
LEASED = (Delivery.QUEUED, Delivery.SENDING)


def claim_and_prepare(limit: int, lease_seconds: int, composers: Composers) -> Chunk:
    return prepare_claimed(claim(limit, lease_seconds), composers)


def prepare_claimed(claimed: Claim, composers: Composers, wrap: Wrap = email) -> Chunk:
    """Write the claimed rows' messages, and record what becomes of those not sent."""
    if not claimed.rows:
        return Chunk(leases=claimed.leases)
    prepared = prepare(claimed.rows, composers, wrap)
    chunk, cancelled, held = prepared.chunk, prepared.cancelled, prepared.held
    chunk.claimed = len(claimed.rows)
    chunk.leases = claimed.leases
    for row_id, reason in prepared.failed.items():
        Delivery.objects.filter(id=row_id, state__in=LEASED).update(
            state=Delivery.FAILED,
            lease_until=None,
            attempts=F("attempts") + 1,
            last_reply=reason,
        )
    if cancelled:
        Delivery.objects.filter(id__in=cancelled, state__in=LEASED).update(
            state=Delivery.CANCELLED,
            lease_until=None,
            last_reply="recipient unsubscribed or suppressed before sending",
        )
    if held:
        Delivery.objects.filter(id__in=held, state__in=LEASED).update(
            state=Delivery.THROTTLED,
            lease_until=None,
            next_attempt_at=timezone.now() + timedelta(seconds=1),
            last_reply="held back by a rate limit (TIDINGS_RATE_LIMITS)",
        )
    if not chunk.rows and chunk.leases:
        # Nobody of the range is sent to: its outcomes are all written already.
        Lease.objects.filter(id__in=chunk.leases).delete()
    return chunk


def record(chunk: Chunk, outcomes: list[Outcome]) -> None:
    """Store what the relay said for each delivery of the chunk, and end its leases."""
    now = timezone.now()
    max_age = timedelta(seconds=settings.DELIVERY_MAX_AGE_SECONDS)
    sent = [o for o in outcomes if o.ok]
    with transaction.atomic():
        for start in range(0, len(sent), 2000):
            mark_sent(sent[start : start + 2000], now)
        if sent:
            sends = sorted({chunk.rows[o.key].send_id for o in sent})
            log.debug(
                "%d deliveries sent",
                len(sent),
                extra={"send": sends[0] if len(sends) == 1 else sends},
            )
        for outcome in outcomes:
            if outcome.ok:
                continue
            row = chunk.rows[outcome.key]
            if not outcome.offered:
                # The relay was down: the row waits for it, and no attempt is counted.
                Delivery.objects.filter(pk=outcome.key, state__in=LEASED).update(
                    state=Delivery.DEFERRED,
                    lease_until=None,
                    next_attempt_at=now + timedelta(seconds=max(outcome.retry_in, 1.0)),
                    last_reply=outcome.reply[:2000],
                )
                continue
            attempts = row.attempts + 1
            update: dict[str, Any] = {
                "last_reply": f"{outcome.code} {outcome.reply}".strip()[:2000],
                "attempts": attempts,
                "lease_until": None,
            }
            started = chunk.started.get(row.send_id, now)
            if outcome.permanent:
                update["state"] = Delivery.FAILED
            elif attempts >= settings.DELIVERY_MAX_ATTEMPTS or now - started >= max_age:
                update["state"] = Delivery.FAILED
                update["last_reply"] = (
                    f"{update['last_reply']} (gave up after {attempts} attempts)"[:2000]
                )
            else:
                update["state"] = Delivery.DEFERRED
                update["next_attempt_at"] = now + backoff(attempts)
            changed = Delivery.objects.filter(pk=outcome.key, state__in=LEASED).update(**update)
            log.info(
                "delivery %s %s: %s",
                outcome.key,
                update["state"],
                update["last_reply"],
                extra={"send": row.send_id, "delivery": outcome.key, "state": update["state"]},
            )
            if changed and outcome.permanent:
                # Once: recording again (the database went away after a commit) changes nothing.
                signals.refused.send(
                    sender=record, delivery_id=outcome.key, code=outcome.code, reply=outcome.reply
                )
        if chunk.leases:
            Lease.objects.filter(id__in=chunk.leases).delete()


def mark_sent(outcomes: list[Outcome], now: datetime) -> None:
    """Record many successes, each with the relay's own reply, in one statement.

    A row cancelled while its message was on the wire (the send was cancelled) was sent all
    the same, and says so.
    """
    table = Delivery._meta.db_table
    values = ", ".join(["(%s, %s)"] * len(outcomes))
    sql = f"""
        WITH v(id, reply) AS (VALUES {values})
        UPDATE {table} SET state = %s, sent_at = %s, lease_until = NULL,
            attempts = attempts + 1, last_reply = v.reply
        FROM v WHERE {table}.id = v.id AND {table}.state IN (%s, %s, %s)
    """  # noqa: S608 - the table name comes from the model, values are parameters
    params: list[Any] = []
    for outcome in outcomes:
        params += [outcome.key, f"{outcome.code} {outcome.reply}"[:300]]
    params += [Delivery.SENT, now, Delivery.QUEUED, Delivery.SENDING, Delivery.CANCELLED]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def release(chunk: Chunk) -> None:
    """Give back rows claimed but not sent (a clean shutdown), so others need not wait:
    their leases end now, and the next claim takes them back."""
    expired = timezone.now() - timedelta(seconds=1)
    with transaction.atomic():
        Lease.objects.filter(id__in=chunk.leases).update(lease_until=expired)
        Delivery.objects.filter(id__in=list(chunk.rows), state=Delivery.SENDING).update(
            lease_until=expired
        )


def finish_sends() -> int:
    """Mark sends with no recipient left to try as done; return how many."""
    pending = [Delivery.QUEUED, Delivery.SENDING, Delivery.DEFERRED, Delivery.THROTTLED]
    running = Send.objects.filter(state=Send.SENDING).values_list("id", flat=True)
    done = [
        send_id
        for send_id in running
        if not Delivery.objects.filter(send_id=send_id, state__in=pending).exists()
    ]
    if done:
        now = timezone.now()
        with transaction.atomic():
            Send.objects.filter(id__in=done, state=Send.SENDING).update(
                state=Send.DONE, finished_at=now
            )
            Lease.objects.filter(send_id__in=done).delete()
            signals.sends_finished.send(sender=finish_sends, send_ids=done, at=now)
    return len(done)


def process_chunk(relay: Relay | None = None, composers: Composers | None = None) -> int:
    """Claim, send and record one chunk; return how many deliveries it handled."""
    chunk = claim_and_prepare(
        settings.DELIVERY_CHUNK_SIZE, settings.DELIVERY_LEASE_SECONDS, composers or Composers()
    )
    if chunk.outgoing:
        pool = Pool(relay or configured_relay(), settings.SMTP_CONNECTIONS)

        async def send() -> list[Outcome]:
            try:
                return await pool.send(chunk.outgoing)
            finally:
                await pool.close()

        record(chunk, asyncio.run(send()))
    finish_sends()
    return chunk.claimed


# What a lost or restarting database raises (and SQLite's "database is locked"): the work is
# tried again. Anything else (a bug, a constraint) is not.
UNAVAILABLE = (OperationalError, InterfaceError)


class Sender:
    """The send role's loop: database work on one thread, SMTP on the event loop, overlapped.

    While chunk n is on the wire, chunk n+1 is claimed and rendered and chunk n-1's outcomes
    are written, so neither the database nor the relay waits for the other.

    A lost database stops nothing for good: each piece of database work is tried again, with
    backoff, until the database is back. A chunk's outcomes stay in memory meanwhile, so what
    was on the wire when the database went away is recorded then, not sent again.
    """

    # How long, once told to stop, database work is still tried while the database is away.
    STOP_GRACE = 10.0

    def __init__(
        self, relay: Relay | None = None, idle: float = 0.5, stop: asyncio.Event | None = None
    ) -> None:
        self.relay = relay or configured_relay()
        self.idle = idle
        self.stop = stop or asyncio.Event()
        self.composers = Composers()
        self.db = ThreadPoolExecutor(1, thread_name_prefix="tidings-db")

    async def in_db(self, func: Callable[..., T], *args: Any) -> T:
        def call() -> T:
            try:
                return func(*args)
            except Exception:
                # The connection may be what failed: start the next call on a new one.
                close_old_connections()
                raise

        return await asyncio.get_running_loop().run_in_executor(self.db, functools.partial(call))

    async def durable(self, func: Callable[..., T], *args: Any) -> T:
        """Run database work until it succeeds, riding out a lost database (logged once per
        outage); give up only when told to stop and the database stays away STOP_GRACE."""
        delay, down_since, stopping_since = 0.25, 0.0, 0.0
        while True:
            try:
                result = await self.in_db(func, *args)
            except UNAVAILABLE as error:
                now = time.monotonic()
                if not down_since:
                    down_since = now
                    log.warning("the database is unavailable (%s); trying again", error)
                if self.stop.is_set():
                    stopping_since = stopping_since or now
                    if now - stopping_since > self.STOP_GRACE:
                        raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            if down_since:
                log.warning("the database is back after %.1f s", time.monotonic() - down_since)
            return result

    async def claim_next(self) -> Chunk:
        claimed = await self.durable(
            claim, settings.DELIVERY_CHUNK_SIZE, settings.DELIVERY_LEASE_SECONDS
        )
        # Claimed (committed): prepared on the same claim, however long the database is away.
        return await self.durable(prepare_claimed, claimed, self.composers)

    def next_chunk(self) -> asyncio.Future[Chunk]:
        return asyncio.ensure_future(self.claim_next())

    async def run(self, once: bool = False) -> int:
        """Send until stopped (once: until nothing is due); return how many rows were handled."""
        pool = Pool(self.relay, settings.SMTP_CONNECTIONS)
        upcoming = self.next_chunk()
        writing: asyncio.Future[None] | None = None
        handled = 0
        try:
            while not self.stop.is_set():
                chunk = await upcoming
                handled += chunk.claimed
                if not chunk.claimed:
                    if writing is not None:
                        await writing
                        writing = None
                    await self.durable(finish_sends)
                    if once:
                        break
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.stop.wait(), self.idle)
                    upcoming = self.next_chunk()
                    continue
                upcoming = self.next_chunk()
                if not chunk.outgoing:
                    continue
                # A relay found down is waited for here, the chunk in hand, rather than
                # claiming (and handing back) chunk after chunk meanwhile.
                while pool.waiting() and not self.stop.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.stop.wait(), min(pool.waiting(), 1.0))
                outcomes = await pool.send(chunk.outgoing)
                if writing is not None:
                    await writing
                writing = asyncio.ensure_future(self.durable(record, chunk, outcomes))
        finally:
            await self.shut_down(pool, upcoming, writing)
        return handled

    async def shut_down(
        self, pool: Pool, upcoming: asyncio.Future[Chunk], writing: asyncio.Future[None] | None
    ) -> None:
        """Record what was sent, give back what was claimed and not sent, close everything;
        a step that fails (the database still away) is logged and the next one still runs."""
        if writing is not None:
            with _logged("recording the last chunk"):
                await writing
        if not upcoming.done():
            await asyncio.wait([upcoming])
        if not upcoming.cancelled() and upcoming.exception() is None:
            with _logged("giving back the claimed rows"):
                await self.in_db(release, upcoming.result())
        await pool.close()
        with _logged("finishing sends"):
            await self.in_db(finish_sends)
        await self.in_db(close_old_connections)
        self.db.shutdown()


@contextlib.contextmanager
def _logged(what: str) -> Iterator[None]:
    try:
        yield
    except Exception:
        log.exception("%s failed while stopping", what)
