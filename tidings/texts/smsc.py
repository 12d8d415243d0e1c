"""Tidings' own SMSC: an SMPP 3.4 server on loopback.

With no SMS gateway configured, the texts role sends over SMPP to this server, which keeps every
segment in the captured outbox (`CapturedText`, the console's Text messages page) before it
answers, returns a delivery receipt when one is asked for, and routes a text that a handset
session submits (system_id `handset`, what `tidings texts reply` uses) to the bound ESME as a
mobile-originated deliver_sm, as a carrier's SMSC would. Tests and bench/sms.py run it too, with
no store, and may tell it to refuse or not deliver some numbers.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tidings.lib import segments
from tidings.texts import pdu

log = logging.getLogger("tidings.texts.smsc")

HANDSET = "handset"  # the system_id of sessions that stand for a phone


@dataclass(frozen=True)
class Submitted:
    """One segment the SMSC took."""

    message_id: str
    system_id: str
    short: pdu.Short


Store = Callable[[list[Submitted]], Awaitable[None]]


class SMSC:
    """The server. store: awaited with each batch of accepted segments before they are
    answered (the captured outbox); None answers at once (tests, benchmarks)."""

    def __init__(
        self,
        store: Store | None = None,
        *,
        system_id: str = "",
        password: str = "",
        receipts: bool = True,
    ) -> None:
        self.store = store
        self.system_id = system_id
        self.password = password
        self.receipts = receipts
        self.ids = itertools.count(1)
        self.sessions: set[Session] = set()
        self.submitted = 0
        # Faults for tests: a number -> command_status to refuse it with; numbers never delivered.
        self.refuse: dict[str, int] = {}
        self.undeliverable: set[str] = set()
        self.kept: list[Submitted] = []  # when keep is set: every segment, for tests
        self.keep = False
        self.server: asyncio.base_events.Server | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(lambda: Session(self), host, port)
        return int(self.server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            for session in list(self.sessions):
                session.transport.close()
            await self.server.wait_closed()

    def receivers(self, exclude: Session | None = None) -> list[Session]:
        return [
            s
            for s in self.sessions
            if s.bound in ("receiver", "transceiver")
            and s is not exclude
            and s.system_id != HANDSET
        ]

    def deliver(self, short: pdu.Short) -> bool:
        """Hand a deliver_sm (a receipt, a text from a phone) to a bound ESME; False if none."""
        targets = self.receivers()
        if not targets:
            return False
        targets[0].send_deliver(short)
        return True

    def receipt_for(self, submitted: Submitted) -> pdu.Short:
        short = submitted.short
        delivered = short.destination not in self.undeliverable
        stat, state, err = ("DELIVRD", 2, "000") if delivered else ("UNDELIV", 5, "001")
        stamp = time.strftime("%y%m%d%H%M")
        text = (
            f"id:{submitted.message_id} sub:001 dlvrd:{'001' if delivered else '000'} "
            f"submit date:{stamp} done date:{stamp} stat:{stat} err:{err} text:"
        ).encode()
        return pdu.Short(
            source=short.destination,
            destination=short.source,
            esm_class=pdu.DELIVERY_RECEIPT,
            registered_delivery=0,
            data_coding=0,
            message=text,
            tlvs={
                pdu.RECEIPTED_MESSAGE_ID: submitted.message_id.encode() + b"\0",
                pdu.MESSAGE_STATE: bytes([state]),
            },
        )


class Session(asyncio.Protocol):
    def __init__(self, smsc: SMSC) -> None:
        self.smsc = smsc
        self.buffer = bytearray()
        self.bound = ""
        self.system_id = ""
        self.sequence = itertools.count(1)
        self.transport: asyncio.Transport
        self.batch: list[tuple[int, Submitted]] = []
        self.flushing: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.smsc.sessions.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.smsc.sessions.discard(self)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        out: list[bytes] = []
        while len(self.buffer) >= 16:
            length, command, _, sequence = pdu.HEADER.unpack_from(self.buffer)
            if length < 16 or length > pdu.MAX_PDU:
                self.transport.write(
                    pdu.pdu(pdu.GENERIC_NACK, sequence, status=pdu.ESME_RINVMSGLEN)
                )
                self.transport.close()
                return
            if len(self.buffer) < length:
                break
            body = bytes(self.buffer[16:length])
            del self.buffer[:length]
            try:
                answer = self.handle(command, sequence, body)
            except Exception:  # one PDU's failure: logged and answered, the session goes on
                log.exception("could not answer command 0x%08x from %s", command,
                              self.system_id or "an unbound session")  # fmt: skip
                answer = pdu.pdu(pdu.GENERIC_NACK, sequence, status=pdu.ESME_RSYSERR)
            if answer:
                out.append(answer)
        if out:
            self.transport.write(b"".join(out))

    def handle(self, command: int, sequence: int, body: bytes) -> bytes | None:
        if command in pdu.BINDS:
            return self.bind(command, sequence, body)
        if command & pdu.RESPONSE:
            return None  # deliver_sm_resp, enquire_link_resp
        if command == pdu.ENQUIRE_LINK:
            return pdu.pdu(pdu.ENQUIRE_LINK | pdu.RESPONSE, sequence)
        if command == pdu.UNBIND:
            self.transport.write(pdu.pdu(pdu.UNBIND | pdu.RESPONSE, sequence))
            self.transport.close()
            return None
        if not self.bound:
            return pdu.pdu(command | pdu.RESPONSE, sequence, status=pdu.ESME_RINVBNDSTS)
        if command == pdu.SUBMIT_SM:
            if self.bound == "receiver":
                return pdu.pdu(command | pdu.RESPONSE, sequence, status=pdu.ESME_RINVBNDSTS)
            return self.submit(sequence, body)
        return pdu.pdu(pdu.GENERIC_NACK, sequence, status=pdu.ESME_RINVCMDID)

    def bind(self, command: int, sequence: int, body: bytes) -> bytes:
        try:
            system_id, at = pdu.cstring(body, 0)
            password, _ = pdu.cstring(body, at)
        except ValueError:
            return pdu.pdu(command | pdu.RESPONSE, sequence, status=pdu.ESME_RBINDFAIL)
        handset = system_id == HANDSET
        if (
            not handset
            and self.smsc.system_id
            and (system_id != self.smsc.system_id or password != self.smsc.password)
        ):
            return pdu.pdu(command | pdu.RESPONSE, sequence, status=pdu.ESME_RINVPASWD)
        self.bound, self.system_id = pdu.BINDS[command], system_id
        return pdu.pdu(command | pdu.RESPONSE, sequence, b"tidings-smsc\0")

    def submit(self, sequence: int, body: bytes) -> bytes | None:
        try:
            short = pdu.Short.parse(body)
        except pdu.Malformed:
            return pdu.pdu(pdu.SUBMIT_SM | pdu.RESPONSE, sequence, status=pdu.ESME_RSYSERR)
        refused = self.smsc.refuse.get(short.destination)
        if refused:
            return pdu.pdu(pdu.SUBMIT_SM | pdu.RESPONSE, sequence, status=refused)
        if self.system_id == HANDSET:
            # A phone's text: to the ESME, as a mobile-originated message.
            mo = pdu.Short(short.source, short.destination, short.esm_class & pdu.UDHI, 0,
                           short.data_coding, short.message)  # fmt: skip
            status = pdu.ESME_ROK if self.smsc.deliver(mo) else pdu.ESME_RINVDSTADR
            return pdu.pdu(pdu.SUBMIT_SM | pdu.RESPONSE, sequence, b"\0", status=status)
        submitted = Submitted(f"{next(self.smsc.ids):x}", self.system_id, short)
        self.smsc.submitted += 1
        if self.smsc.keep:
            self.smsc.kept.append(submitted)
        if self.smsc.store is None:
            self.after(submitted)
            return self.answer(sequence, submitted)
        self.batch.append((sequence, submitted))
        if self.flushing is None:
            self.flushing = asyncio.ensure_future(self.flush())
        return None

    def answer(self, sequence: int, submitted: Submitted) -> bytes:
        return pdu.pdu(
            pdu.SUBMIT_SM | pdu.RESPONSE, sequence, submitted.message_id.encode() + b"\0"
        )

    def after(self, submitted: Submitted) -> None:
        if self.smsc.receipts and submitted.short.registered_delivery & 0x01:
            self.smsc.deliver(self.smsc.receipt_for(submitted))

    async def flush(self) -> None:
        """Store what gathered (group commit), then answer it."""
        assert self.smsc.store is not None
        try:
            while self.batch:
                await asyncio.sleep(0)  # let more segments of the window arrive
                batch, self.batch = self.batch, []
                try:
                    await self.smsc.store([s for _, s in batch])
                except Exception:
                    log.exception("could not keep %d texts; answered with a temporary error",
                                  len(batch))  # fmt: skip
                    self.transport.write(b"".join(
                        pdu.pdu(pdu.SUBMIT_SM | pdu.RESPONSE, seq, status=pdu.ESME_RMSGQFUL)
                        for seq, _ in batch
                    ))  # fmt: skip
                    continue
                if not self.transport.is_closing():
                    self.transport.write(b"".join(self.answer(seq, s) for seq, s in batch))
                for _, submitted in batch:
                    self.after(submitted)
        finally:
            self.flushing = None

    def send_deliver(self, short: pdu.Short) -> None:
        if not self.transport.is_closing():
            self.transport.write(pdu.pdu(pdu.DELIVER_SM, next(self.sequence), short.body()))


def handset_text(short_source: str, destination: str, text: str) -> list[pdu.Short]:
    """The submit_sm segments a phone sends for a text (used by `tidings texts reply`)."""
    coding, parts = segments.split(text, int(time.time()))
    esm = pdu.UDHI if len(parts) > 1 else 0
    return [pdu.Short(short_source, destination, esm, 0, coding, part) for part in parts]


async def serve_forever(smsc: SMSC, host: str, port: int, stop: asyncio.Event) -> None:
    await smsc.start(host, port)
    log.info("SMSC (the captured outbox for texts) listening on %s:%d", host, port)
    with contextlib.suppress(asyncio.CancelledError):
        await stop.wait()
    await smsc.close()
