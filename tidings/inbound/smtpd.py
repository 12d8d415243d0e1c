"""Tidings' SMTP server: validate the envelope, store the raw message, answer. Nothing else."""

from __future__ import annotations

import hmac
import logging
import re
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

from tidings.inbound import addresses
from tidings.inbound.actions import store_message
from tidings.lib.mail import normalize

log = logging.getLogger("tidings.smtpd")

CAPTURE_USERNAME = "tidings"
MAX_RECIPIENTS = 100

# A CR or LF that is not part of a CRLF pair. Servers disagree on where such a line ends, which is
# what SMTP smuggling exploits ("\n.\n" ends DATA for one server and not for the next), so no
# message carrying one is accepted at all.
BARE_LINE_ENDING = re.compile(rb"\r(?!\n)|(?<!\r)\n")


def authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    """Accept only Tidings' own delivery worker, which knows the locally generated secret."""
    if mechanism not in ("PLAIN", "LOGIN") or not isinstance(auth_data, LoginPassword):
        return AuthResult(success=False, handled=False)
    ok = auth_data.login == CAPTURE_USERNAME.encode() and hmac.compare_digest(
        auth_data.password, settings.SMTP_CAPTURE_SECRET.encode()
    )
    return AuthResult(success=ok)


def _resolve_local(address: str) -> bool:
    close_old_connections()
    try:
        return addresses.resolve(address) is not None
    finally:
        close_old_connections()


def _store(**kwargs: Any) -> int:
    close_old_connections()
    try:
        return store_message(**kwargs).pk
    finally:
        close_old_connections()


class Handler:
    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        address = normalize(address)
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        if addresses.is_local_domain(address):
            if not await sync_to_async(_resolve_local)(address):
                return f"550 5.1.1 <{address}>: no such list or address here"
        elif not session.authenticated:
            # Never an open relay: other domains only for our own worker's captured outbox.
            return "550 5.7.1 Relaying denied: this server accepts mail only for its own addresses"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if BARE_LINE_ENDING.search(raw):
            log.warning("refused a message with a bare CR or LF from %s", session.peer)
            return "554 5.5.2 Bare CR or LF refused: every line must end with CRLF"
        local = [a for a in envelope.rcpt_tos if addresses.is_local_domain(a)]
        captured = [a for a in envelope.rcpt_tos if not addresses.is_local_domain(a)]
        try:
            message_id = await sync_to_async(_store)(
                raw=raw,
                mail_from=envelope.mail_from or "",
                local_rcpts=local,
                captured_rcpts=captured,
                peer=str(session.peer[0]) if session.peer else "",
                helo=session.host_name or "",
            )
        except Exception:
            log.exception("could not store a message from %s", envelope.mail_from)
            return "451 4.3.0 Could not store the message; please try again later"
        log.info(
            "stored message #%s from <%s> for %s", message_id, envelope.mail_from, envelope.rcpt_tos
        )
        return f"250 2.0.0 Queued as {message_id}"


def make_controller(host: str, port: int) -> Controller:
    """Return an aiosmtpd controller for Tidings' handler; call .start() and .stop() on it."""
    return Controller(
        Handler(),
        hostname=host,
        port=port,
        server_hostname=settings.MAIL_DOMAIN,
        ident="Tidings ESMTP",
        data_size_limit=settings.SMTP_MAX_MESSAGE_SIZE,
        authenticator=authenticate,
        # The capture login is only for the worker on the same machine or network; TLS for it
        # comes with the hardening issue.
        auth_require_tls=False,
    )


def parse_listen(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    return host.strip("[]") or "127.0.0.1", int(port)
