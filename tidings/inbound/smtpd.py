"""Tidings' SMTP server: validate the envelope, store the raw message, answer. Nothing else.

A message gets its 250 only once the transaction that stores it has committed, so a server
killed right after answering loses nothing. Storing is a group commit: DATA handlers queue
their message and wait; one writer thread commits whatever is queued in one transaction, then
answers them all (250 each, or 451 each if the commit failed).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import ssl
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from django.conf import settings
from django.db import DataError, IntegrityError, connection, connections

from tidings.delivery.smtp import CAPTURE_USERNAME
from tidings.inbound import addresses
from tidings.inbound.actions import Received, store_messages
from tidings.inbound.limits import Limits, limits
from tidings.lib.mail import normalize
from tidings.lib.network import in_networks, network_of
from tidings.lib.ratelimit import Buckets, Rule

log = logging.getLogger("tidings.smtpd")

T = TypeVar("T")

MAX_ADDRESS_LENGTH = 320


def has_bare_line_ending(raw: bytes) -> bool:
    """Return whether raw has a CR or LF that is not part of a CRLF pair.

    Servers disagree on where such a line ends, which is what SMTP smuggling exploits ("\\n.\\n"
    ends DATA for one server and not for the next), so no message carrying one is accepted.
    (Counting is some fifty times faster than a regular expression on a 6 KB message.)"""
    pairs = raw.count(b"\r\n")
    return raw.count(b"\r") != pairs or raw.count(b"\n") != pairs


def authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    """Accept only Tidings' own delivery worker, which knows the locally generated secret."""
    if mechanism not in ("PLAIN", "LOGIN") or not isinstance(auth_data, LoginPassword):
        return AuthResult(success=False, handled=False)
    ok = auth_data.login == CAPTURE_USERNAME.encode() and hmac.compare_digest(
        auth_data.password, settings.SMTP_CAPTURE_SECRET.encode()
    )
    # handled=False: aiosmtpd answers "535 5.7.8" itself (with handled=True, the default, it
    # answers nothing and the client waits for its own timeout).
    return AuthResult(success=ok, handled=ok)


class Database:
    """One thread with its own long-lived database connection, for the event loop to call."""

    def __init__(self, name: str) -> None:
        self.executor = ThreadPoolExecutor(1, thread_name_prefix=f"tidings-smtpd-{name}")
        self.last_used = 0.0

    def _call(self, func: Callable[..., T], *args: Any) -> T:
        # The connection stays open between calls (a new one per message would cost more than
        # the insert); after a quiet spell, check that the server did not drop it meanwhile.
        quiet = time.monotonic() - self.last_used > 10
        if quiet and connection.connection is not None and not connection.is_usable():
            connection.close()
        try:
            return func(*args)
        except Exception:
            connection.close()  # it may be what failed: the next call opens a new one
            raise
        finally:
            self.last_used = time.monotonic()

    async def run(self, func: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(
            self.executor, self._call, func, *args
        )

    def close(self) -> None:
        self.executor.submit(connections.close_all).result()
        self.executor.shutdown()


class GroupCommit:
    """Queue received messages; commit each queued batch in one transaction, then answer."""

    def __init__(self, database: Database, max_batch: int) -> None:
        self.database = database
        self.max_batch = max_batch
        self.queue: list[tuple[Received, asyncio.Future[int]]] = []
        self.writer: asyncio.Task[None] | None = None

    async def store(self, received: Received) -> int:
        """Return the stored message's id once its batch has committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        # If the client hung up, nobody awaits the outcome: mark a failure as seen anyway.
        future.add_done_callback(lambda f: f.cancelled() or f.exception())
        self.queue.append((received, future))
        if self.writer is None or self.writer.done():
            self.writer = loop.create_task(self._write())
        # A client that hangs up meanwhile cancels its handler, never the batch.
        return await asyncio.shield(future)

    async def _write(self) -> None:
        # Messages that arrive while a batch commits make up the next batch.
        while self.queue:
            batch, self.queue = self.queue[: self.max_batch], self.queue[self.max_batch :]
            messages = [received for received, _ in batch]
            try:
                results: Sequence[int | BaseException] = await self.database.run(
                    store_each_if_needed, messages
                )
            except Exception as error:
                results = [error] * len(batch)
            for (_, future), result in zip(batch, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)


def store_each_if_needed(batch: list[Received]) -> Sequence[int | BaseException]:
    """Store a batch in one transaction; if one message's data broke it, store them one by one.

    Only errors about the data itself are retried this way: after any other failure (the
    connection lost, say) the commit may have happened, and a retry could store twice."""
    try:
        return store_messages(batch)
    except (DataError, IntegrityError, ValueError) as error:
        if len(batch) == 1:
            raise
        log.warning("a batch of %d failed (%s); storing its messages one by one", len(batch), error)
    results: list[int | BaseException] = []
    for received in batch:
        try:
            results += store_messages([received])
        except (DataError, IntegrityError, ValueError) as error:
            results.append(error)
    return results


def out_of_space(error: BaseException) -> bool:
    """Whether a failed store means the disk (or the database's space) is full."""
    code = getattr(getattr(error, "__cause__", None), "sqlstate", None) or getattr(
        error, "pgcode", None
    )
    if code == "53100":  # PostgreSQL: disk_full
        return True
    text = str(error).lower()
    return any(sign in text for sign in ("disk is full", "no space left", "disk full"))


class StoreTrouble:
    """Say once that storing fails (with the traceback), then count quietly until it works."""

    def __init__(self) -> None:
        self.refused = 0

    def failed(self, error: BaseException) -> str:
        """Log (once an episode) and return the reply for a message that could not be stored."""
        full = out_of_space(error)
        if not self.refused:
            if full:
                log.error("the disk is full: refusing mail with 452 until it has room (%s)", error)
            else:
                log.error("could not store a message; refusing mail with 451", exc_info=error)
        self.refused += 1
        if full:
            return "452 4.3.1 Insufficient system storage; please try again later"
        return "451 4.3.0 Could not store the message; please try again later"

    def stored(self) -> None:
        if self.refused:
            log.warning("storing mail works again, after %d messages were refused", self.refused)
            self.refused = 0


def per_minute(limit: int) -> Buckets:
    """Buckets letting `limit` transactions a minute through per key (0: no limit)."""
    return Buckets(default=Rule(limit, 60.0) if limit > 0 else None)


class LocalAddresses:
    """Which local addresses exist; list addresses are remembered for a few seconds."""

    TTL = 10.0
    SIZE = 10_000

    def __init__(self, database: Database) -> None:
        self.database = database
        self.known: dict[str, float] = {}

    async def exists(self, address: str) -> bool:
        now = time.monotonic()
        if self.known.get(address, 0) > now:
            return True
        found = await self.database.run(addresses.resolve, address)
        if found is None:
            return False
        if found.target is not None:  # VERP addresses are unique: no point keeping them
            if len(self.known) >= self.SIZE:
                self.known.clear()
            self.known[address] = now + self.TTL
        return True


def captured_locally(envelope: Envelope) -> set[str]:
    """The local addresses of this transaction that go to the captured outbox."""
    found: set[str] | None = getattr(envelope, "captured_locally", None)
    if found is None:
        found = set()
        envelope.captured_locally = found  # type: ignore[attr-defined]
    return found


def captured(envelope: Envelope) -> set[str]:
    """Every recipient of this transaction kept in the captured outbox."""
    outside = {a for a in envelope.rcpt_tos if not addresses.is_local_domain(a)}
    return outside | captured_locally(envelope)


class Handler:
    def __init__(self, limits_: Limits | None = None) -> None:
        self.limits = limits_ or limits()
        self.reader = Database("read")
        self.writer = Database("write")
        self.commits = GroupCommit(self.writer, self.limits.commit_batch)
        self.local = LocalAddresses(self.reader)
        self.senders = per_minute(self.limits.sender_messages_per_minute)
        self.clients = per_minute(self.limits.client_messages_per_minute)
        self.connections: defaultdict[str, int] = defaultdict(int)
        self.open_connections = 0
        self.trouble = StoreTrouble()

    def close(self) -> None:
        self.reader.close()
        self.writer.close()

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        if len(address) > MAX_ADDRESS_LENGTH or any(ord(c) < 32 for c in address):
            return "553 5.1.7 Malformed sender address"
        if not address.isascii() and "SMTPUTF8" not in {o.upper() for o in mail_options}:
            # RFC 6531: an address beyond ASCII comes with the SMTPUTF8 parameter, or not at all.
            return "553 5.6.7 A non-ASCII sender address needs the SMTPUTF8 parameter"
        # The capture login is Tidings' own worker relaying a list post to every member.
        if not session.authenticated:
            refused = self.over_limit(session, address)
            if refused:
                return refused
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        address = normalize(address)
        if len(envelope.rcpt_tos) >= self.limits.max_recipients:
            return "452 4.5.3 Too many recipients"
        if addresses.is_local_domain(address):
            try:
                known = await self.local.exists(address)
            except Exception:
                log.exception("could not look up <%s>", address)
                return "451 4.3.0 Could not check the address; please try again later"
            if not known:
                if not session.authenticated:
                    return f"550 5.1.1 <{address}>: no such list or address here"
                # Tidings' own notices to a local address with no list behind it (the account's
                # sender address, an owner's): kept in the captured outbox, like outside mail.
                captured_locally(envelope).add(address)
        elif not session.authenticated:
            # Never an open relay: other domains only for our own worker's captured outbox.
            return "550 5.7.1 Relaying denied: this server accepts mail only for its own addresses"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if has_bare_line_ending(raw):
            log.warning("refused a message with a bare CR or LF from %s", session.peer)
            return "554 5.5.2 Bare CR or LF refused: every line must end with CRLF"
        received = Received(
            raw=raw,
            # aiosmtpd hands the null sender (bounces, auto-replies) over as "<>" (and needs it
            # so: an empty one reads as "no MAIL yet"). It is stored as "", which everything
            # downstream reads as "never answer this".
            mail_from="" if envelope.mail_from in (None, "<>") else str(envelope.mail_from),
            local_rcpts=[a for a in envelope.rcpt_tos if a not in captured(envelope)],
            captured_rcpts=[a for a in envelope.rcpt_tos if a in captured(envelope)],
            peer=str(session.peer[0]) if session.peer else "",
            helo=(session.host_name or "").replace("\x00", ""),
        )
        try:
            message_id = await self.commits.store(received)
        except Exception as error:
            return self.trouble.failed(error)
        self.trouble.stored()
        log.info(
            "stored message #%s from <%s> for %s", message_id, envelope.mail_from, envelope.rcpt_tos
        )
        return f"250 2.0.0 Queued as {message_id}"

    def over_limit(self, session: Session, sender: str) -> str:
        """Return the refusal when this transaction is one too many, else ""."""
        ip = str(session.peer[0]) if session.peer else ""
        unlimited = in_networks(ip, list(self.limits.unlimited_clients))
        if not unlimited and not self.clients.allow(network_of(ip)):
            log.warning("too many messages from the network of %s", ip)
            return "451 4.7.1 Too many messages from your network; please try again later"
        if sender not in ("", "<>") and not self.senders.allow(normalize(sender).lower()):
            log.warning("too many messages from <%s> (%s)", sender, session.peer)
            return "450 4.7.1 Too many messages from this sender; please try again later"
        return ""

    def connect(self, ip: str) -> str:
        """Count a new connection from ip; return the refusal if it is one too many, else ""."""
        if self.open_connections >= self.limits.max_connections:
            return "421 4.3.2 Too many connections; please try again later"
        if self.connections[ip] >= self.limits.connections_per_ip:
            return "421 4.7.0 Too many connections from your address; try again later"
        self.connections[ip] += 1
        self.open_connections += 1
        return ""

    def disconnect(self, ip: str) -> None:
        self.open_connections -= 1
        self.connections[ip] -= 1
        if self.connections[ip] <= 0:
            del self.connections[ip]


class Server(SMTP):
    """aiosmtpd's SMTP protocol with caps on connections: in all, and per client address."""

    event_handler: Handler

    async def _handle_client(self) -> None:
        assert self.session is not None
        ip = str(self.session.peer[0]) if self.session.peer else ""
        refused = self.event_handler.connect(ip)
        if refused:
            log.warning("refused a connection from %s: %s", ip, refused)
            await self.push(refused)
            assert self.transport is not None
            self.transport.close()
            return
        try:
            await super()._handle_client()
        finally:
            self.event_handler.disconnect(ip)


class TidingsController(Controller):
    handler: Handler

    def factory(self) -> SMTP:
        return Server(self.handler, **self.SMTP_kwargs)

    def stop(self, no_assert: bool = False) -> None:
        super().stop(no_assert)
        self.handler.close()


def make_controller(host: str, port: int, limits_: Limits | None = None) -> TidingsController:
    """Return an aiosmtpd controller for Tidings' handler; call .start() and .stop() on it."""
    handler = Handler(limits_)
    return TidingsController(
        handler,
        hostname=host,
        port=port,
        server_hostname=settings.MAIL_DOMAIN,
        ident="Tidings ESMTP",
        data_size_limit=handler.limits.max_message_size,
        authenticator=authenticate,
        # STARTTLS is offered with a certificate; mail from the internet may still come in the
        # clear (an MX must take it), but the capture login then waits for TLS.
        tls_context=server_tls_context(),
        require_starttls=False,
        auth_require_tls=bool(settings.SMTP_TLS_CERT) and settings.SMTP_REQUIRE_TLS_FOR_AUTH,
    )


def server_tls_context() -> ssl.SSLContext | None:
    """The SMTP server's TLS context from TIDINGS_SMTP_TLS_CERT/KEY, or None (no STARTTLS)."""
    if not settings.SMTP_TLS_CERT:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(settings.SMTP_TLS_CERT, settings.SMTP_TLS_KEY or None)
    return context
