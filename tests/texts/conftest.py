"""An SMSC on loopback for the texts tests: Tidings' own, in a thread with its event loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from tidings.texts.smsc import SMSC


class RunningSMSC:
    def __init__(self) -> None:
        self.smsc = SMSC()
        self.smsc.keep = True
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.port = asyncio.run_coroutine_threadsafe(self.smsc.start(), self.loop).result(10)
        self.url = f"smpp://tidings@127.0.0.1:{self.port}"

    def texts(self) -> list[tuple[str, str]]:
        """(destination, whole text) of every text taken, long ones put back together."""
        from tidings.lib.segments import decode
        from tidings.texts.pdu import concatenation

        whole: dict[tuple[str, int], dict[int, str]] = {}
        found: list[tuple[str, str]] = []
        for submitted in list(self.smsc.kept):
            short = submitted.short
            reference, part, parts, body = concatenation(short.message, short.esm_class)
            text = decode(body, short.data_coding)
            if parts == 1:
                found.append((short.destination, text))
                continue
            pieces = whole.setdefault((short.destination, reference), {})
            pieces[part] = text
            if len(pieces) == parts:
                found.append((short.destination, "".join(pieces[n] for n in sorted(pieces))))
        return found

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.smsc.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def smsc() -> Iterator[RunningSMSC]:
    running = RunningSMSC()
    yield running
    running.stop()
