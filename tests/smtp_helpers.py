"""Real SMTP servers on free ports for tests."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

from aiosmtpd.controller import Controller
from django.db import connection

from tidings.delivery.smtp import Relay
from tidings.inbound.models import InboundMessage
from tidings.inbound.smtpd import make_controller
from tidings.ops.worker import Worker


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def tidings_smtpd(settings) -> Iterator[int]:  # type: ignore[no-untyped-def]
    """Run Tidings' own SMTP server on a free port and make it the workers' relay."""
    port = free_port()
    settings.SMTP_LISTEN = f"127.0.0.1:{port}"
    settings.SMTP_RELAY = ""
    controller = make_controller("127.0.0.1", port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def captured_for(address: str) -> list[EmailMessage]:
    """Return the parsed messages the outbox captured for one address, oldest first."""
    found = []
    for message in InboundMessage.objects.filter(captured=True).order_by("id"):
        if address in message.captured_rcpts:
            parsed = message_from_bytes(bytes(message.raw), policy=default)
            assert isinstance(parsed, EmailMessage)
            found.append(parsed)
    return found


def text_part(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    content = part.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")  # as a mail client shows it


class Sink:
    """An SMTP server that keeps what it gets, with chosen replies and faults per recipient."""

    def __init__(self, pipelining: bool = False) -> None:
        self.pipelining = pipelining
        self.replies: dict[str, str] = {}  # recipient → reply to its RCPT
        self.drop_once: set[str] = set()  # recipients whose DATA is taken, then the line cut
        self.received: list[tuple[str, list[str], bytes]] = []
        self.relay: Relay | None = None
        self.delay = 0.0  # seconds before each DATA is answered: a slow relay

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # type: ignore[no-untyped-def]
        session.host_name = hostname
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, options):  # type: ignore[no-untyped-def]
        reply = self.replies.get(address, "250 OK")
        if reply.startswith("250"):
            envelope.rcpt_tos.append(address)
        return reply

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        if self.delay:
            await asyncio.sleep(self.delay)
        self.received.append(
            (envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
        )
        dropped = self.drop_once.intersection(envelope.rcpt_tos)
        if dropped:
            self.drop_once -= dropped
            server.transport.close()  # accepted, but the client never hears so
        return "250 2.0.0 Ok: queued as ABC123"

    def recipients(self) -> list[str]:
        return [rcpt for _, rcpts, _ in self.received for rcpt in rcpts]


@contextmanager
def sink_server(pipelining: bool = False, smtputf8: bool = False) -> Iterator[Sink]:
    handler = Sink(pipelining)
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, enable_SMTPUTF8=smtputf8)
    controller.start()
    handler.relay = Relay("127.0.0.1", port, start_tls=False)
    try:
        yield handler
    finally:
        controller.stop()


def run_worker() -> None:
    """Run the production worker loop (ops.worker.Worker: every role on its own thread) until
    a round finds nothing to do. The data must be committed: a transactional test's."""
    asyncio.run(Worker(idle=0.05).run(once=True))


def deliver_in_thread() -> None:
    """Run the production worker loop in its own thread (a browser test's event loop owns this
    one); re-raise what went wrong there."""
    errors: list[BaseException] = []

    def work() -> None:
        try:
            run_worker()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(60)
    assert not errors, errors
