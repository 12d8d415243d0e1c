"""The one way out: push messages to the configured relay over SMTP and report each outcome."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import aiosmtplib
from django.conf import settings

from tidings.inbound.smtpd import CAPTURE_USERNAME, parse_listen

log = logging.getLogger("tidings.delivery")


@dataclass(frozen=True)
class Relay:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    use_tls: bool = False
    start_tls: bool | None = None  # None: upgrade when the server offers STARTTLS


def configured_relay() -> Relay:
    """Return the relay from TIDINGS_SMTP_RELAY, or Tidings' own SMTP server if it is empty."""
    if not settings.SMTP_RELAY:
        host, port = parse_listen(settings.SMTP_LISTEN)
        if host in ("0.0.0.0", "::", ""):  # noqa: S104 - listening everywhere; connect locally
            host = "127.0.0.1"
        return Relay(host, port, CAPTURE_USERNAME, settings.SMTP_CAPTURE_SECRET, start_tls=False)
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
    )


@dataclass(frozen=True)
class Outgoing:
    key: int
    mail_from: str
    rcpt: str
    data: bytes


@dataclass(frozen=True)
class Outcome:
    key: int
    code: int  # SMTP reply code; 0 when the connection failed before a reply
    reply: str

    @property
    def ok(self) -> bool:
        return 200 <= self.code < 300

    @property
    def permanent(self) -> bool:
        return 500 <= self.code < 600


async def _connect(relay: Relay) -> aiosmtplib.SMTP:
    client = aiosmtplib.SMTP(
        hostname=relay.host,
        port=relay.port,
        username=relay.username,
        password=relay.password,
        use_tls=relay.use_tls,
        start_tls=relay.start_tls,
        timeout=30,
    )
    await client.connect()
    return client


async def send_all(relay: Relay, messages: list[Outgoing]) -> list[Outcome]:
    """Send each message on one reused connection, reconnecting after a failure."""
    outcomes: list[Outcome] = []
    client: aiosmtplib.SMTP | None = None
    for item in messages:
        try:
            if client is None or not client.is_connected:
                client = await _connect(relay)
            _, reply = await client.sendmail(item.mail_from, [item.rcpt], item.data)
            outcomes.append(Outcome(item.key, 250, reply))
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refusal = exc.recipients[0]
            outcomes.append(Outcome(item.key, refusal.code, refusal.message))
        except aiosmtplib.SMTPResponseException as exc:
            outcomes.append(Outcome(item.key, exc.code, exc.message))
            await _reset(client)
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
            log.warning("relay %s:%s: %s", relay.host, relay.port, exc)
            outcomes.append(Outcome(item.key, 0, f"connection failed: {exc}"))
            client = None
    if client is not None and client.is_connected:
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError):
            client.close()
    return outcomes


async def _reset(client: aiosmtplib.SMTP | None) -> None:
    """Return the session to a clean state after a refused transaction."""
    if client is None or not client.is_connected:
        return
    try:
        await client.rset()
    except (aiosmtplib.SMTPException, OSError):
        client.close()
