"""Real SMTP servers on free ports for tests."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

from tidings.inbound.models import InboundMessage
from tidings.inbound.smtpd import make_controller


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
