"""SMS gateways: SMPP 3.4 (smpplib) and HTTP APIs in the style of the common SMS services.

A gateway takes a chunk of texts and answers an Outcome per text, in the delivery ledger's
terms (2xx taken, 4xx try again later, 5xx refused for good; code 0 and offered=False: the
gateway was not reached, nothing was tried). Replies from phones and delivery receipts arrive
through the same gateway (SMPP: deliver_sm on the bound session; HTTP: the webhooks in
texts.views) and are handed to the callbacks it was made with.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import http.client
import json
import logging
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import smpplib.client
import smpplib.consts
import smpplib.exceptions
from django.conf import settings
from django.urls import reverse

from tidings.delivery.smtp import Outcome
from tidings.lib import segments
from tidings.lib.tokens import short_mac
from tidings.texts import pdu as wire

log = logging.getLogger("tidings.texts")

OnText = Callable[[str, str, str], None]  # source, destination, text; raises if not kept
Receipt = tuple[str, str, str]  # gateway message id, state, detail


@dataclass(frozen=True)
class TextOut:
    """One text of a chunk: the ledger row's id, the number (E.164), the text."""

    key: int
    number: str
    text: str
    source: str = ""


@dataclass
class Sent:
    """What a gateway said of a chunk: an outcome per text, and the ids of accepted segments."""

    outcomes: list[Outcome] = field(default_factory=list)
    parts: list[tuple[int, str]] = field(default_factory=list)  # (row id, gateway message id)


def hook_token() -> str:
    """The secret path part of the HTTP gateway's webhooks (inbound texts, status callbacks)."""
    return short_mac("texts-hook", "gateway", 20)


TEMPORARY = {
    wire.ESME_RSYSERR,
    wire.ESME_RMSGQFUL,
    wire.ESME_RTHROTTLED,
    0x45,  # ESME_RSUBMITFAIL
    0x61,  # ESME_RINVSCHED
    0xFE,  # ESME_RDELIVERYFAILURE
}


def smpp_outcome(key: int, status: int, message_id: str = "") -> Outcome:
    if status == wire.ESME_ROK:
        return Outcome(key, 250, f"accepted {message_id}".strip())
    name = smpplib.consts.DESCRIPTIONS.get(status, "unknown status")
    code = 451 if status in TEMPORARY else 550
    return Outcome(key, code, f"SMPP 0x{status:02x} {name}")


class SmppGateway:
    """One bound transceiver session to an SMSC; several texts in flight (the window)."""

    def __init__(
        self,
        url: str,
        *,
        on_text: OnText | None = None,
        window: int | None = None,
        timeout: float = 10.0,
    ) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("smpp", "smpps") or not parsed.hostname:
            raise ValueError(f"not an SMPP gateway URL: {url!r} (smpp://id:password@host:port)")
        self.host = parsed.hostname
        self.port = parsed.port or 2775
        self.tls = parsed.scheme == "smpps"
        self.system_id = urllib.parse.unquote(parsed.username or "tidings")
        self.password = urllib.parse.unquote(parsed.password or "")
        query = urllib.parse.parse_qs(parsed.query)
        self.source = query.get("source", [""])[0]
        self.system_type = query.get("system_type", [""])[0]
        self.window = window or settings.SMS_WINDOW
        self.timeout = timeout
        self.on_text = on_text
        self.receipts: list[Receipt] = []
        self.client: smpplib.client.Client | None = None
        self.answers: dict[int, tuple[int, str]] = {}  # sequence -> (status, message id)
        self.reassembly: dict[tuple[str, int], dict[int, str]] = {}
        self.down_until = 0.0

    # After a failed connection, listening waits this long before trying again (sending does
    # not: a chunk tries at once, and its rows wait for the gateway if it is still away).
    RECONNECT = 5

    def __repr__(self) -> str:
        return f"SMPP gateway {self.host}:{self.port}"

    # The session -------------------------------------------------------------------------

    def connect(self) -> smpplib.client.Client:
        if self.client is not None:
            return self.client
        context = ssl.create_default_context() if self.tls else None
        client = smpplib.client.Client(
            self.host,
            self.port,
            timeout=self.timeout,
            ssl_context=context,
            allow_unknown_opt_params=True,
            logger_name="tidings.texts.smpp",
        )
        client.set_message_sent_handler(self._answered)
        client.set_message_received_handler(self._received)
        client.set_error_pdu_handler(self._error_pdu)
        client.connect()
        try:
            client.bind_transceiver(
                system_id=self.system_id, password=self.password, system_type=self.system_type
            )
        except Exception:
            client.disconnect()
            raise
        self.client = client
        return client

    def close(self) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        with contextlib.suppress(Exception):  # closing a session that is already gone
            client.unbind()
        client.disconnect()

    def _answered(self, pdu: Any, **kwargs: Any) -> None:
        message_id = pdu.message_id or b""
        if isinstance(message_id, bytes):
            message_id = message_id.decode("latin-1")
        self.answers[pdu.sequence] = (int(pdu.status), message_id)

    def _error_pdu(self, pdu: Any) -> None:
        if pdu.command == "generic_nack":
            self.answers[pdu.sequence] = (int(pdu.status) or wire.ESME_RSYSERR, "")
        # An error submit_sm_resp also reaches _answered, with its status.

    def _received(self, pdu: Any, **kwargs: Any) -> int:
        """A deliver_sm: a receipt, or a text from a phone. A non-zero answer (the text could
        not be kept) makes the SMSC deliver it again later."""
        if pdu.command != "deliver_sm":
            return 0
        message = pdu.short_message or pdu.message_payload or b""
        if isinstance(message, str):
            message = message.encode("latin-1")
        esm = int(pdu.esm_class or 0)
        if esm & 0x3C == wire.DELIVERY_RECEIPT:
            self.receipts.append(read_receipt(pdu, message))
            return 0
        source = _text(pdu.source_addr)
        destination = _text(pdu.destination_addr)
        reference, part, parts, body = wire.concatenation(message, esm)
        text = segments.decode(body, int(pdu.data_coding or 0))
        if parts > 1:
            pieces = self.reassembly.setdefault((source, reference), {})
            pieces[part] = text
            if len(pieces) < parts:
                return 0
            text = "".join(pieces[n] for n in sorted(pieces))
            del self.reassembly[(source, reference)]
        if self.on_text is None:
            return 0
        try:
            self.on_text(source, destination, text)
        except Exception:
            log.exception("could not keep a text from %s; the SMSC will send it again", source)
            return wire.ESME_RSYSERR
        return 0

    # Sending -----------------------------------------------------------------------------

    def send(self, texts: list[TextOut]) -> Sent:
        """Submit each text's segments, a window in flight, and read every answer.

        The session (bind, answers, texts and receipts arriving, enquire_link) is smpplib's;
        submit_sm PDUs are written by texts.pdu, half a window per write: smpplib built and
        wrote each one in 110 µs, 15 times what the rest of a text costs (bench/sms.py)."""
        sent = Sent()
        try:
            client = self.connect()
        except (OSError, smpplib.exceptions.ConnectionError, smpplib.exceptions.PDUError) as error:
            self.client = None
            reply = f"SMS gateway {self.host}:{self.port} unreachable: {error}"
            sent.outcomes = [Outcome(t.key, 0, reply, offered=False, retry_in=5) for t in texts]
            return sent
        statuses: dict[int, list[tuple[int, str]]] = {t.key: [] for t in texts}
        sequences: dict[int, int] = {}  # sequence -> row id
        broken = ""
        pending: list[bytes] = []
        batch = max(1, self.window // 2)

        def write() -> None:
            client._socket.sendall(b"".join(pending))
            pending.clear()
            while len(sequences) - len(self.answers) > self.window - batch:
                client.read_once()

        try:
            for text in texts:
                source = (text.source or self.source).lstrip("+")
                coding, parts = split_text(text.text, text.key)
                esm = wire.UDHI if len(parts) > 1 else 0
                for part in parts:
                    short = wire.Short(
                        source, text.number.lstrip("+"), esm, 1, coding, part,
                        source_ton=_ton(source), dest_ton=1, dest_npi=1,
                    )  # fmt: skip
                    sequence = client.next_sequence()
                    pending.append(wire.pdu(wire.SUBMIT_SM, sequence, short.body()))
                    sequences[sequence] = text.key
                    if len(pending) >= batch:
                        write()
            if pending:
                write()
            while len(self.answers) < len(sequences):
                client.read_once()
        except (OSError, smpplib.exceptions.ConnectionError, smpplib.exceptions.PDUError) as error:
            broken = f"SMPP session lost: {error}"
            self.close()
            self.client = None
        for sequence, key in sequences.items():
            status, message_id = self.answers.pop(sequence, (-1, ""))
            statuses[key].append((status, message_id))
        self.answers.clear()
        for text in texts:
            answers = statuses[text.key]
            failed = [s for s, _ in answers if s != wire.ESME_ROK]
            if not answers or -1 in failed:
                # Never answered: it may or may not have been taken; it is tried again.
                sent.outcomes.append(Outcome(text.key, 451, broken or "no answer from the SMSC"))
            elif failed:
                sent.outcomes.append(smpp_outcome(text.key, failed[0]))
            else:
                ids = [m for _, m in answers]
                sent.outcomes.append(smpp_outcome(text.key, 0, " ".join(ids)))
                sent.parts += [(text.key, m) for m in ids]
        return sent

    def poll(self, seconds: float) -> None:
        """Wait up to seconds for texts and receipts (between chunks), keeping the session."""
        if time.monotonic() < self.down_until:
            time.sleep(seconds)
            return
        try:
            client = self.connect()
            deadline = time.monotonic() + seconds
            while (left := deadline - time.monotonic()) > 0:
                sock = client._socket
                if sock is None:
                    break
                sock.settimeout(left)
                try:
                    client.read_once(auto_send_enquire_link=False)
                except TimeoutError:
                    client.send_pdu(smpplib.smpp.make_pdu("enquire_link", client=client))
                    break
                finally:
                    if client._socket is not None:
                        client._socket.settimeout(self.timeout)
        except (OSError, smpplib.exceptions.ConnectionError, smpplib.exceptions.PDUError) as error:
            if not self.down_until:
                log.warning("SMPP session to %s:%d: %s; trying again every %d s",
                            self.host, self.port, error, self.RECONNECT)  # fmt: skip
            self.down_until = time.monotonic() + self.RECONNECT
            self.close()
            time.sleep(seconds)
            return
        self.down_until = 0.0


@functools.lru_cache(maxsize=256)
def _split(text: str) -> tuple[int, list[bytes]]:
    return segments.split(text, 0)


def split_text(text: str, key: int) -> tuple[int, list[bytes]]:
    """segments.split, once per text (a bulletin's text is every recipient's): only the
    concatenation reference (the row's id) differs from one row to the next."""
    coding, parts = _split(text)
    if len(parts) == 1:
        return coding, parts
    reference = bytes([key % 256])
    return coding, [part[:3] + reference + part[4:] for part in parts]


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value or "")


def _ton(source: str) -> int:
    """International for numbers, alphanumeric for names (a sender ID like TIDINGS)."""
    digits = source.lstrip("+")
    if not digits:
        return smpplib.consts.SMPP_TON_UNK
    if digits.isdigit():
        return smpplib.consts.SMPP_TON_INTL if len(digits) > 8 else smpplib.consts.SMPP_TON_SBSCR
    return smpplib.consts.SMPP_TON_ALNUM


STATES = {1: "ENROUTE", 2: "DELIVRD", 3: "EXPIRED", 4: "DELETED", 5: "UNDELIV", 6: "ACCEPTD",
          7: "UNKNOWN", 8: "REJECTD"}  # fmt: skip


def read_receipt(deliver: Any, message: bytes) -> Receipt:
    """(message id, state, detail) of a delivery receipt: the TLVs when present, else the
    receipt text (id:… stat:… err:…), as SMSCs write it."""
    fields = dict(part.split(":", 1) for part in message.decode("latin-1").split() if ":" in part)
    message_id = _text(deliver.receipted_message_id) or fields.get("id", "")
    state = STATES.get(int(deliver.message_state or 0), "") or fields.get("stat", "")
    return message_id.strip("\0"), state, f"err:{fields.get('err', '')}"


class HttpGateway:
    """An HTTP SMS API: one POST per text (To, From, Body, StatusCallback; form-encoded, basic
    auth from the URL), answered with JSON carrying the message's id (sid, id or message_id).
    The service splits long texts itself; it calls back with status and inbound texts."""

    def __init__(self, url: str, *, threads: int = 8, timeout: float = 15.0) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"not an HTTP gateway URL: {url!r}")
        self.parsed = parsed
        self.timeout = timeout
        user = urllib.parse.unquote(parsed.username or "")
        password = urllib.parse.unquote(parsed.password or "")
        self.auth = (
            "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode() if user else ""
        )
        query = urllib.parse.parse_qs(parsed.query)
        self.source = query.get("from", [""])[0]
        self.path = parsed.path or "/"
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="tidings-sms-http")
        self.local = threading.local()
        self.receipts: list[Receipt] = []  # they come by webhook, not here

    def __repr__(self) -> str:
        return f"HTTP gateway {self.parsed.hostname}"

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            host, port = self.parsed.hostname or "", self.parsed.port
            if self.parsed.scheme == "https":
                conn = http.client.HTTPSConnection(host, port, timeout=self.timeout)
            else:
                conn = http.client.HTTPConnection(host, port, timeout=self.timeout)
            self.local.conn = conn
        return conn

    def _post(self, text: TextOut) -> tuple[Outcome, str]:
        callback = settings.BASE_URL + reverse("texting:hook_status", args=[hook_token()])
        body = urllib.parse.urlencode(
            {"To": text.number, "From": text.source or self.source, "Body": text.text,
             "StatusCallback": callback}
        )  # fmt: skip
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        if self.auth:
            headers["Authorization"] = self.auth
        for attempt in (1, 2):  # a kept-alive connection the server closed: once more, anew
            conn = self._connection()
            try:
                conn.request("POST", self.path, body, headers)
                response = conn.getresponse()
                data = response.read(64 * 1024)
                break
            except (OSError, http.client.HTTPException) as error:
                conn.close()
                self.local.conn = None
                if attempt == 2 or isinstance(error, ConnectionRefusedError | socket.timeout):
                    reply = f"SMS gateway {self.parsed.hostname} unreachable: {error}"
                    return Outcome(text.key, 0, reply, offered=False, retry_in=5), ""
        status = response.status
        try:
            answer = json.loads(data or b"{}")
        except ValueError:
            answer = {}
        if not isinstance(answer, dict):
            answer = {}
        message_id = str(answer.get("sid") or answer.get("id") or answer.get("message_id") or "")
        detail = str(answer.get("message") or answer.get("error") or response.reason)[:300]
        if 200 <= status < 300:
            return Outcome(text.key, 250, f"accepted {message_id}".strip()), message_id
        if status == 429 or status >= 500:
            return Outcome(text.key, 451, f"HTTP {status} {detail}"), ""
        return Outcome(text.key, 550, f"HTTP {status} {detail}"), ""

    def send(self, texts: list[TextOut]) -> Sent:
        sent = Sent()
        for outcome, message_id in self.pool.map(self._post, texts):
            sent.outcomes.append(outcome)
            if message_id:
                sent.parts.append((outcome.key, message_id))
        return sent

    def poll(self, seconds: float) -> None:
        time.sleep(seconds)  # inbound texts and receipts come by webhook

    def close(self) -> None:
        self.pool.shutdown(wait=True)


Gateway = SmppGateway | HttpGateway


def configured_gateway(on_text: OnText | None = None) -> Gateway:
    """The gateway of TIDINGS_SMS_GATEWAY, else Tidings' own SMSC (the captured outbox)."""
    url = settings.SMS_GATEWAY or f"smpp://tidings@{settings.SMSC_LISTEN}"
    if url.startswith(("http://", "https://")):
        return HttpGateway(url)
    return SmppGateway(url, on_text=on_text)
