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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from tidings.bulletins.email import BulletinRenderer
from tidings.bulletins.models import Bulletin
from tidings.delivery.dkim import sign
from tidings.delivery.limits import RateLimiter, parse_limits
from tidings.delivery.models import Delivery, Lease, Send
from tidings.delivery.smtp import Outcome, Outgoing, Pool, Relay, configured_relay, dot_stuff
from tidings.inbound.addresses import verp_address
from tidings.lib.mail import wire_address
from tidings.lib.tokens import short_mac
from tidings.lists.models import MailingList
from tidings.lists.relay import personalize
from tidings.subscribers.bounces import record_refusal
from tidings.subscribers.models import Subscriber, Suppression
from tidings.topics.models import Topic

log = logging.getLogger("tidings.delivery")

T = TypeVar("T")
COLUMNS = ("id", "send_id", "address", "subscriber_id", "topic_id", "attempts")


@dataclass(frozen=True)
class Row:
    id: int
    send_id: int
    address: str
    subscriber_id: int | None
    topic_id: int | None
    attempts: int


@dataclass
class Chunk:
    claimed: int = 0
    rows: dict[int, Row] = field(default_factory=dict)
    outgoing: list[Outgoing] = field(default_factory=list)
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


def claim(limit: int, lease_seconds: int) -> Claim:
    """Lease up to limit due deliveries of running sends to this worker.

    First attempts are leased as a range of ids above the send's cursor (one small write per
    chunk); retries and rows whose range a dead worker left are leased row by row.
    """
    now = timezone.now()
    until = now + timedelta(seconds=lease_seconds)
    active = list(
        Send.objects.filter(state=Send.SENDING).order_by("id").values_list("id", flat=True)
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
                due.filter(state=Delivery.DEFERRED, next_attempt_at__lte=now),
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
        for send_id in active:
            # One send at a time, oldest first; the send's row lock orders concurrent claims.
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
                .values_list(*COLUMNS)[:limit]
            )
            if not rows:
                continue
            first, last = rows[0][0], rows[-1][0]
            Send.objects.filter(pk=send_id).update(cursor=last)
            lease = Lease.objects.create(
                send_id=send_id, first_id=first, last_id=last, lease_until=until
            )
            claimed.leases.append(lease.pk)
            claimed.rows = [Row(*r) for r in rows]
            return claimed
    return claimed


class Unrenderable(BulletinRenderer):
    """A bulletin whose shared parts failed to render: each of its rows fails with the reason."""

    def __init__(self, bulletin: Bulletin, error: Exception) -> None:
        self.bulletin = bulletin
        self.error = error

    def render(self, **kwargs: Any) -> bytes:
        raise self.error


class Renderers:
    """The sends a worker has seen lately, rendered once each."""

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self.sends: OrderedDict[int, tuple[Send, BulletinRenderer | None]] = OrderedDict()
        self.topics: dict[int, Topic] = {}
        self.messages: dict[int, bytes] = {}
        self.limiter = RateLimiter(parse_limits(settings.RATE_LIMITS))

    def load(self, send_ids: set[int], topic_ids: set[int]) -> None:
        missing = send_ids - self.sends.keys()
        for send in Send.objects.select_related("bulletin__account", "bulletin__sender").filter(
            id__in=missing
        ):
            renderer: BulletinRenderer | None = None
            if send.bulletin:
                try:
                    renderer = BulletinRenderer(send.bulletin)
                except Exception as error:
                    renderer = Unrenderable(send.bulletin, error)
            self.sends[send.pk] = (send, renderer)
        while len(self.sends) > self.size:
            old, _ = self.sends.popitem(last=False)
            self.messages.pop(old, None)
        new_topics = topic_ids - self.topics.keys()
        if new_topics:
            self.topics.update(Topic.objects.in_bulk(new_topics))

    def stored_message(self, send: Send) -> bytes:
        """Return a send's one finished message (a list post, a notice), signed and stuffed."""
        data = self.messages.get(send.pk)
        if data is None:
            data = self.messages[send.pk] = dot_stuff(sign(bytes(send.message or b"")))
        return data


def hosted_lists(rows: list[Row]) -> set[int]:
    """Return the subscriber ids of the chunk that are Tidings' own lists: their copies are
    shared ones, with no personal link and no tracking (the list's archive shows them to all)."""
    addresses = {r.address.lower(): r.subscriber_id for r in rows if r.subscriber_id}
    if not addresses:
        return set()
    hosted = MailingList.objects.filter(address__in=list(addresses))
    found = {addresses.get(a.lower()) for a in hosted.values_list("address", flat=True)}
    return {pk for pk in found if pk is not None}


def still_wanted(rows: list[Row]) -> tuple[set[int], set[int]]:
    """Return the subscriber ids that may still get mail (left since the snapshot: no), and
    those marked as distribution lists in accounts that send them shared copies."""
    ids = {r.subscriber_id for r in rows if r.subscriber_id}
    if not ids:
        return set(), set()
    suppressed = Suppression.objects.filter(
        Q(account__isnull=True) | Q(account_id=OuterRef("account_id")), email=OuterRef("email")
    )
    # Status is checked here, not in SQL: with it in the WHERE clause PostgreSQL, its
    # statistics taken before a big import, may scan every confirmed row instead of the
    # chunk's ids by primary key (32 ms instead of 1 ms per chunk of 1,000).
    left = Subscriber.objects.filter(id__in=ids).exclude(Exists(suppressed))
    wanted, marked = set(), set()
    for pk, status, shared, by_account in left.values_list(
        "id", "status", "distribution_list", "account__shared_copies_for_distribution_lists"
    ):
        if status == Subscriber.CONFIRMED:
            wanted.add(pk)
            if shared and by_account:
                marked.add(pk)
    return wanted, marked


@dataclass
class Prepared:
    chunk: Chunk
    # Recipients who left since the snapshot, rows over a rate limit, rows that can't be sent.
    cancelled: list[int] = field(default_factory=list)
    held: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)


def prepare(rows: list[Row], renderers: Renderers) -> Prepared:
    """Return the chunk's finished messages and what becomes of the rows not sent.

    A row whose message can't be written (a value that slipped past validation, an address the
    relay can't take) fails alone, with the reason: the rest of the chunk goes out, and the
    worker lives on to send the next one.
    """
    renderers.load({r.send_id for r in rows}, {r.topic_id for r in rows if r.topic_id})
    wanted, marked = still_wanted(rows)
    bulletin_rows = [r for r in rows if renderers.sends[r.send_id][1] is not None]
    shared = hosted_lists(bulletin_rows) | marked
    chunk = Chunk()
    prepared = Prepared(chunk)
    cancelled, held = prepared.cancelled, prepared.held
    for send_id in {r.send_id for r in rows}:
        chunk.started[send_id] = renderers.sends[send_id][0].created
    for row in rows:
        if not renderers.limiter.allow(row.address):
            held.append(row.id)
            continue
        send, renderer = renderers.sends[row.send_id]
        if renderer is not None:
            topic = renderers.topics.get(row.topic_id or 0)
            if row.subscriber_id not in wanted or topic is None:
                cancelled.append(row.id)
                continue
        try:
            rcpt, smtputf8 = wire_address(row.address)
            data = message_for(row, send, renderer, renderers, row.subscriber_id in shared)
        except Exception as error:  # any failure is this row's alone
            log.warning("delivery %s not written: %s", row.id, error)
            prepared.failed[row.id] = f"message could not be written: {error}"[:2000]
            continue
        chunk.rows[row.id] = row
        chunk.outgoing.append(Outgoing(row.id, verp_address(row.id), rcpt, data, smtputf8))
    return prepared


def message_for(
    row: Row,
    send: Send,
    renderer: BulletinRenderer | None,
    renderers: Renderers,
    shared: bool = False,
) -> bytes:
    """Return one row's finished message: signed and dot-stuffed."""
    if renderer is not None:
        assert row.subscriber_id is not None
        data = renderer.render(
            topic=renderers.topics[row.topic_id or 0],
            recipient=row.address,
            subscriber_id=row.subscriber_id,
            message_id=message_id(row.send_id, row.id),
            delivery_id=row.id,
            shared=shared,
        )
        return sign(data)
    if send.mailing_list_id:
        # Each member's copy of a post or a digest carries their own one-click unsubscribe.
        return dot_stuff(
            sign(personalize(bytes(send.message or b""), send.mailing_list_id, row.address))
        )
    return renderers.stored_message(send)


# A leased row is `queued` (first attempt, leased by range) or `sending` (a retry).
LEASED = (Delivery.QUEUED, Delivery.SENDING)


def claim_and_prepare(limit: int, lease_seconds: int, renderers: Renderers) -> Chunk:
    claimed = claim(limit, lease_seconds)
    if not claimed.rows:
        return Chunk(leases=claimed.leases)
    prepared = prepare(claimed.rows, renderers)
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
            state=Delivery.DEFERRED,
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
        for outcome in outcomes:
            if outcome.ok:
                continue
            row = chunk.rows[outcome.key]
            attempts = row.attempts + 1
            update: dict[str, Any] = {
                "last_reply": f"{outcome.code} {outcome.reply}".strip()[:2000],
                "attempts": attempts,
                "lease_until": None,
            }
            started = chunk.started.get(row.send_id, now)
            if outcome.permanent:
                update["state"] = Delivery.FAILED
                record_refusal(outcome.key, outcome.code, outcome.reply)
            elif attempts >= settings.DELIVERY_MAX_ATTEMPTS or now - started >= max_age:
                update["state"] = Delivery.FAILED
                update["last_reply"] = (
                    f"{update['last_reply']} (gave up after {attempts} attempts)"[:2000]
                )
            else:
                update["state"] = Delivery.DEFERRED
                update["next_attempt_at"] = now + backoff(attempts)
            Delivery.objects.filter(pk=outcome.key, state__in=LEASED).update(**update)
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
    pending = [Delivery.QUEUED, Delivery.SENDING, Delivery.DEFERRED]
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
            Bulletin.objects.filter(sends__id__in=done, status=Bulletin.SENDING).update(
                status=Bulletin.SENT, sent_at=now
            )
    return len(done)


def route_some(limit: int = 200, seconds: float = 0.25) -> bool:
    """Route received messages for a moment (at most limit); return whether any was routed.

    Called between chunks of a big send, so list posts keep pace with what arrives instead of
    one message a second.
    """
    from tidings.inbound.router import route_one

    deadline = time.monotonic() + seconds
    routed = 0
    while routed < limit and time.monotonic() < deadline and route_one():
        routed += 1
    return routed > 0


def housekeeping(jobs: bool = True) -> bool:
    """Route received messages, finish sends, and (unless jobs is False: the Worker runs them
    on their own thread) run due periodic jobs; return whether there was work."""
    from tidings.ops.periodic import run_due

    routed = route_some()
    finish_sends()
    return (run_due() if jobs else False) or routed


def run_jobs() -> bool:
    """Run due periodic jobs on the jobs thread; return whether any ran."""
    from tidings.ops.periodic import run_due

    try:
        return run_due()
    except Exception:
        # A lost connection, say: log it, start the next round on a new one.
        log.exception("periodic jobs could not run")
        close_old_connections()
        return False


def process_chunk(relay: Relay | None = None, renderers: Renderers | None = None) -> int:
    """Claim, send and record one chunk; return how many deliveries it handled."""
    chunk = claim_and_prepare(
        settings.DELIVERY_CHUNK_SIZE, settings.DELIVERY_LEASE_SECONDS, renderers or Renderers()
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


def step() -> bool:
    """Do one unit of background work: route a message, send a chunk, or run a due job."""
    from tidings.inbound.router import route_one
    from tidings.ops.periodic import run_due

    return route_one() or process_chunk() > 0 or run_due()


def drain(limit: int = 10_000) -> int:
    """Run steps until there is nothing left to do right now; return how many ran."""
    for done in range(limit):
        if not step():
            return done
    return limit


class Worker:
    """The long-running loop: database work on one thread, SMTP on the event loop, overlapped.

    While chunk n is on the wire, chunk n+1 is claimed and rendered and chunk n-1's outcomes
    are written, so neither the database nor the relay waits for the other.
    """

    def __init__(self, relay: Relay | None = None, idle: float = 0.5) -> None:
        self.relay = relay or configured_relay()
        self.idle = idle
        self.stop = asyncio.Event()
        self.renderers = Renderers()
        self.db = ThreadPoolExecutor(1, thread_name_prefix="tidings-db")
        # Periodic jobs (feed polls, imports, digests) run on their own thread and connection:
        # a slow one never holds back sending or routing.
        self.jobs = ThreadPoolExecutor(1, thread_name_prefix="tidings-jobs")
        self.jobs_running: asyncio.Future[bool] | None = None

    async def periodic(self, wait: bool = False) -> bool:
        """Start a round of due jobs unless one is running; return whether a finished round
        ran any (wait: finish the running round first, as `--once` must)."""
        ran = False
        running = self.jobs_running
        if running is not None and (wait or running.done()):
            ran = await running
            running = None
        if running is None:
            loop = asyncio.get_running_loop()
            self.jobs_running = asyncio.ensure_future(loop.run_in_executor(self.jobs, run_jobs))
        return ran

    async def in_db(self, func: Callable[..., T], *args: Any) -> T:
        def call() -> T:
            try:
                return func(*args)
            except Exception:
                # The connection may be what failed: start the next call on a new one.
                close_old_connections()
                raise

        return await asyncio.get_running_loop().run_in_executor(self.db, functools.partial(call))

    def next_chunk(self) -> asyncio.Future[Chunk]:
        return asyncio.ensure_future(
            self.in_db(
                claim_and_prepare,
                settings.DELIVERY_CHUNK_SIZE,
                settings.DELIVERY_LEASE_SECONDS,
                self.renderers,
            )
        )

    async def run(self, once: bool = False) -> None:
        pool = Pool(self.relay, settings.SMTP_CONNECTIONS)
        upcoming = self.next_chunk()
        writing: asyncio.Future[None] | None = None
        last_housekeeping = datetime.min.replace(tzinfo=timezone.get_current_timezone())
        idle_rounds = 0
        try:
            while not self.stop.is_set():
                chunk = await upcoming
                if not chunk.claimed:
                    if writing is not None:
                        await writing
                        writing = None
                    busy = await self.in_db(housekeeping, False)
                    busy = await self.periodic(wait=once) or busy
                    # Idle only when a claim made after housekeeping finds nothing either:
                    # routing may just have queued a list post.
                    idle_rounds = 0 if busy else idle_rounds + 1
                    if idle_rounds >= 2:
                        idle_rounds = 0
                        if once:
                            break
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self.stop.wait(), self.idle)
                    upcoming = self.next_chunk()
                    continue
                idle_rounds = 0
                upcoming = self.next_chunk()
                if not chunk.outgoing:
                    continue
                outcomes = await pool.send(chunk.outgoing)
                if writing is not None:
                    await writing
                writing = asyncio.ensure_future(self.in_db(record, chunk, outcomes))
                if timezone.now() - last_housekeeping > timedelta(seconds=1):
                    # List posts and bounces must not wait for a big send to finish.
                    last_housekeeping = timezone.now()
                    await self.in_db(housekeeping, False)
                    await self.periodic()
        finally:
            if writing is not None:
                await writing
            if not upcoming.done():
                await asyncio.wait([upcoming])
            if upcoming.exception() is None:
                await self.in_db(release, upcoming.result())
            await pool.close()
            await self.in_db(close_old_connections)
            self.db.shutdown()
            if self.jobs_running is not None:
                await self.jobs_running
            await asyncio.get_running_loop().run_in_executor(self.jobs, close_old_connections)
            self.jobs.shutdown()
