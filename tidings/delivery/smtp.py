"""The one way out: a pool of pipelining SMTP connections to the configured relay.

Each connection sends one message per round trip where the server offers PIPELINING (RFC
2920): the end of one message's data, then the next message's MAIL, RCPT and DATA, go out in a
single write, and the replies are read back in order. Every message gets its own outcome: the
reply code and text, or code 0 when the connection failed before the server answered for it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import ssl
import time
from collections import deque
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from django.conf import settings

log = logging.getLogger("tidings.delivery")

TIMEOUT = 60.0
# The login of Tidings' own SMTP server that lets the worker relay captured mail.
CAPTURE_USERNAME = "tidings"


def parse_listen(value: str) -> tuple[str, int]:
    """Return the host and port of a "host:port" (or "[v6]:port") setting."""
    host, _, port = value.rpartition(":")
    return host.strip("[]") or "127.0.0.1", int(port)


@dataclass(frozen=True)
class Relay:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    use_tls: bool = False
    start_tls: bool | None = None  # None: upgrade when the server offers STARTTLS
    # Check the relay's certificate (and that it names the host); off only when told so.
    verify: bool = True

    def tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context


def configured_relay() -> Relay:
    """Return the relay from TIDINGS_SMTP_RELAY, or Tidings' own SMTP server if it is empty."""
    if not settings.SMTP_RELAY:
        host, port = parse_listen(settings.SMTP_LISTEN)
        if host in ("0.0.0.0", "::", ""):  # noqa: S104 - listening everywhere; connect locally
            host = "127.0.0.1"
        # Tidings' own server, on this machine or network: TLS when it asks for it before the
        # login (its certificate names the mail domain, not this address, so it is not checked).
        tls = bool(settings.SMTP_TLS_CERT) and settings.SMTP_REQUIRE_TLS_FOR_AUTH
        return Relay(
            host,
            port,
            CAPTURE_USERNAME,
            settings.SMTP_CAPTURE_SECRET,
            start_tls=tls,
            verify=False,
        )
    url = urlsplit(settings.SMTP_RELAY)
    if url.scheme not in ("smtp", "smtps", "smtp+starttls"):
        raise ValueError("TIDINGS_SMTP_RELAY must look like smtp://user:password@host:port")
    return Relay(
        host=url.hostname or "127.0.0.1",
        port=url.port or (465 if url.scheme == "smtps" else 25),
        username=unquote(url.username) if url.username else None,
        password=unquote(url.password) if url.password else None,
        use_tls=url.scheme == "smtps",
        start_tls=True if url.scheme == "smtp+starttls" else None,
        verify=parse_qs(url.query).get("verify", ["yes"])[-1].lower() not in ("no", "0", "false"),
    )


@dataclass(frozen=True)
class Outgoing:
    key: int
    mail_from: str
    rcpt: str
    data: bytes  # as it goes on the wire after DATA: see dot_stuff()
    # The recipient's local part is not ASCII: only a relay that offers SMTPUTF8 can take it.
    smtputf8: bool = False


@dataclass(frozen=True)
class Outcome:
    key: int
    code: int  # SMTP reply code; 0 when the connection failed before a reply
    reply: str
    # False: the message was never offered to the relay (it was down): no attempt is counted,
    # the row waits retry_in seconds for the relay, not for its own backoff.
    offered: bool = True
    retry_in: float = 0.0

    @property
    def ok(self) -> bool:
        return 200 <= self.code < 300

    @property
    def permanent(self) -> bool:
        return 500 <= self.code < 600


class SMTPError(Exception):
    def __init__(self, code: int, text: str) -> None:
        super().__init__(f"{code} {text}")
        self.code = code
        self.text = text


def dot_stuff(data: bytes) -> bytes:
    """Return message data ready for DATA: CRLF endings, leading dots doubled, final CRLF."""
    if b"\r\n." in data:
        data = data.replace(b"\r\n.", b"\r\n..")
    if data.startswith(b"."):
        data = b"." + data
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data


class ReplyReader(asyncio.Protocol):
    """Collect the server's replies as they arrive; hand them out n at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.lines: list[bytes] = []
        self.replies: deque[tuple[int, str]] = deque()
        self.waiter: asyncio.Future[None] | None = None
        self.need = 0
        self.lost: Exception | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        start = 0
        while (end := self.buffer.find(b"\n", start)) >= 0:
            line = bytes(self.buffer[start : end + 1])
            start = end + 1
            self.lines.append(line)
            if line[3:4] != b"-":
                self.replies.append(self.parse(self.lines))
                self.lines = []
        del self.buffer[:start]
        if self.waiter is not None and len(self.replies) >= self.need and not self.waiter.done():
            self.waiter.set_result(None)

    @staticmethod
    def parse(lines: list[bytes]) -> tuple[int, str]:
        head = lines[-1][:3]
        code = int(head) if head.isdigit() else -1
        return code, "\n".join(line[4:].strip().decode("utf-8", "replace") for line in lines)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = exc or ConnectionError("the relay closed the connection")
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError(str(self.lost)))

    def _time_out(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(TimeoutError("the relay did not answer in time"))

    async def read(self, n: int) -> list[tuple[int, str]]:
        """Return the next n replies, waiting for them."""
        if len(self.replies) < n:
            if self.lost is not None:
                raise ConnectionError(str(self.lost))
            loop = asyncio.get_running_loop()
            self.waiter, self.need = loop.create_future(), n
            timer = loop.call_later(TIMEOUT, self._time_out)
            try:
                await self.waiter
            finally:
                timer.cancel()
                self.waiter = None
        replies = [self.replies.popleft() for _ in range(n)]
        for code, text in replies:
            if code < 0:
                raise ConnectionError(f"garbled reply: {text[:80]!r}")
        return replies


class Connection:
    """One SMTP session with the relay."""

    def __init__(self, relay: Relay) -> None:
        self.relay = relay
        self.reader = ReplyReader()
        self.extensions: dict[str, str] = {}

    @property
    def pipelining(self) -> bool:
        return "PIPELINING" in self.extensions

    def write(self, data: bytes) -> None:
        if self.reader.transport is None or self.reader.lost is not None:
            raise ConnectionError("not connected")
        self.reader.transport.write(data)

    async def reply(self) -> tuple[int, str]:
        return (await self.reader.read(1))[0]

    async def command(self, line: str, expect: int = 2) -> tuple[int, str]:
        self.write(line.encode() + b"\r\n")
        code, text = await self.reply()
        if code // 100 != expect:
            raise SMTPError(code, text)
        return code, text

    async def open(self) -> None:
        relay = self.relay
        loop = asyncio.get_running_loop()
        context = relay.tls_context() if relay.use_tls else None
        await asyncio.wait_for(
            loop.create_connection(lambda: self.reader, relay.host, relay.port, ssl=context),
            TIMEOUT,
        )
        code, text = await self.reply()
        if code != 220:
            raise SMTPError(code, text)
        await self.ehlo()
        if not relay.use_tls and relay.start_tls is not False and "STARTTLS" in self.extensions:
            await self.command("STARTTLS")
            assert self.reader.transport is not None
            tls = await loop.start_tls(
                self.reader.transport,
                self.reader,
                relay.tls_context(),
                server_hostname=relay.host,
            )
            self.reader.transport = tls  # type: ignore[assignment]
            await self.ehlo()
        elif relay.start_tls:
            raise SMTPError(0, "the relay does not offer STARTTLS")
        if relay.username:
            secret = f"\0{relay.username}\0{relay.password or ''}".encode()
            await self.command(f"AUTH PLAIN {base64.b64encode(secret).decode()}")

    async def ehlo(self) -> None:
        _, text = await self.command(f"EHLO {settings.MAIL_DOMAIN}")
        self.extensions = {}
        for line in text.splitlines()[1:]:
            keyword, _, params = line.partition(" ")
            self.extensions[keyword.upper()] = params

    def close(self) -> None:
        if self.reader.transport is not None:
            self.reader.transport.close()
            self.reader.transport = None

    async def quit(self) -> None:
        with contextlib.suppress(OSError, ConnectionError, SMTPError, TimeoutError):
            await self.command("QUIT")
        self.close()

    def refusal(self, item: Outgoing) -> Outcome | None:
        """Return the outcome of an item this relay can't take, before anything is sent."""
        limit = self.extensions.get("SIZE", "")
        if limit.isdigit() and int(limit) > 0 and len(item.data) > int(limit):
            return Outcome(item.key, 552, "5.3.4 message larger than the relay accepts")
        if item.smtputf8 and "SMTPUTF8" not in self.extensions:
            return Outcome(
                item.key,
                553,
                "5.6.7 the address has a non-ASCII local part and the relay does not offer "
                "SMTPUTF8",
            )
        return None

    def too_big(self, item: Outgoing) -> bool:
        return self.refusal(item) is not None

    @staticmethod
    def mail_command(item: Outgoing) -> str:
        return f"MAIL FROM:<{item.mail_from}>" + (" SMTPUTF8" if item.smtputf8 else "")

    @classmethod
    def envelope(cls, item: Outgoing) -> bytes:
        return f"{cls.mail_command(item)}\r\nRCPT TO:<{item.rcpt}>\r\nDATA\r\n".encode()

    async def send(self, items: deque[Outgoing], outcomes: list[Outcome]) -> None:
        """Send items from the left of the deque until it is empty; raise if the session breaks.

        Items that were finished are appended to outcomes; on an exception, the item in flight
        is still at the left of the deque (and, with pipelining, its envelope may have gone out).
        """
        while items and (refused := self.refusal(items[0])) is not None:
            items.popleft()
            outcomes.append(refused)
        if not items:
            return
        if not self.pipelining:
            while items:
                item = items[0]
                outcomes.append(await self._send_one(item))
                items.popleft()
            return
        self.write(self.envelope(items[0]))
        while items:
            item = items[0]
            mail, rcpt, data = await self.reader.read(3)
            following = items[1] if len(items) > 1 else None
            if following is not None and self.too_big(following):
                following = None  # let the next round fail it without sending
            if data[0] == 354:
                accepted = mail[0] // 100 == 2 and rcpt[0] // 100 == 2
                payload = item.data + b".\r\n" if accepted else b".\r\n"
                self.write(payload + (self.envelope(following) if following else b""))
                end = await self.reply()
                result = end if accepted else (mail if mail[0] // 100 != 2 else rcpt)
            else:
                result = next(r for r in (mail, rcpt, data) if r[0] // 100 != 2)
                # The transaction is half open: reset it before the next one.
                self.write(b"RSET\r\n" + (self.envelope(following) if following else b""))
                await self.reply()
            outcomes.append(Outcome(item.key, result[0], result[1]))
            items.popleft()
            if following is None and items:
                await self.send(items, outcomes)
                return

    async def _send_one(self, item: Outgoing) -> Outcome:
        try:
            await self.command(self.mail_command(item))
            await self.command(f"RCPT TO:<{item.rcpt}>")
            await self.command("DATA", expect=3)
        except SMTPError as exc:
            await self.command("RSET")
            return Outcome(item.key, exc.code, exc.text)
        self.write(item.data + b".\r\n")
        code, text = await self.reply()
        return Outcome(item.key, code, text)


class Pool:
    """Up to `size` open connections to one relay, kept open between batches.

    Three broken sessions in a row on one connection mean the relay is down: the pool backs off
    (5 s, doubling up to a minute) and hands back what it did not offer as not offered, so a
    flaky relay costs the rows no attempts; only a message that was on the wire counts one.
    """

    FIRST_BACKOFF = 5.0
    MAX_BACKOFF = 60.0

    def __init__(self, relay: Relay, size: int) -> None:
        self.relay = relay
        self.size = size
        self.idle: list[Connection] = []
        self.down_until = 0.0
        self.down_reason = ""
        self.backoff = self.FIRST_BACKOFF

    def waiting(self) -> float:
        """Seconds until the pool tries a relay it found down (0: it is not down)."""
        return max(0.0, self.down_until - time.monotonic())

    def _down(self, reason: str) -> None:
        if not self.waiting():
            self.down_reason = reason
            self.down_until = time.monotonic() + self.backoff
            log.warning(
                "relay %s:%s looks down (%s); trying again in %.0f s",
                self.relay.host, self.relay.port, reason, self.backoff,
            )  # fmt: skip
            self.backoff = min(self.backoff * 2, self.MAX_BACKOFF)

    def _not_offered(self, item: Outgoing, reason: str) -> Outcome:
        return Outcome(item.key, 0, f"not tried: {reason}", offered=False, retry_in=self.waiting())

    async def _lane(self, queue: deque[Outgoing], outcomes: list[Outcome], batch: int) -> None:
        """Take batches from the shared queue and send them on one connection."""
        connection: Connection | None = self.idle.pop() if self.idle else None
        if connection is not None and connection.reader.lost is not None:
            connection = None  # the relay closed it while it was idle
        failures = 0
        while queue:
            mine: deque[Outgoing] = deque()
            while queue and len(mine) < batch:
                mine.append(queue.popleft())
            while mine:
                if self.waiting():  # another lane found the relay down
                    why = f"the relay is down ({self.down_reason})"
                    outcomes.extend(self._not_offered(item, why) for item in mine)
                    mine.clear()
                    break
                opening = connection is None
                try:
                    if connection is None:
                        connection = Connection(self.relay)
                        await connection.open()
                        opening = False
                    await connection.send(mine, outcomes)
                    failures = 0
                    self.backoff = self.FIRST_BACKOFF
                except (OSError, ConnectionError, TimeoutError, SMTPError) as exc:
                    if connection is not None:
                        connection.close()
                    connection = None
                    failures += 1
                    reason = f"connection failed: {exc or type(exc).__name__}"
                    log.warning("relay %s:%s: %s", self.relay.host, self.relay.port, reason)
                    if not opening:
                        # The message in flight is retried later (it may have arrived: the
                        # only way a recipient can get a message twice); it counts an attempt.
                        item = mine.popleft()
                        outcomes.append(Outcome(item.key, 0, reason))
                    if failures >= 3:  # three broken sessions in a row: the relay is down
                        self._down(reason)
        if connection is not None:
            self.idle.append(connection)

    async def send(self, messages: list[Outgoing], batch: int = 50) -> list[Outcome]:
        """Send every message; return one outcome per message, in no particular order."""
        queue = deque(messages)
        outcomes: list[Outcome] = []
        lanes = min(self.size, max(1, (len(messages) + batch - 1) // batch))
        await asyncio.gather(*(self._lane(queue, outcomes, batch) for _ in range(lanes)))
        return outcomes

    async def close(self) -> None:
        while self.idle:
            await self.idle.pop().quit()
