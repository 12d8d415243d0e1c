"""A stop flag set by SIGTERM or Ctrl-C, for long-running commands."""

from __future__ import annotations

import signal
import threading
from types import FrameType


class StopFlag:
    def __init__(self) -> None:
        self.event = threading.Event()

    def install(self) -> StopFlag:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.event.set()

    def wait(self, seconds: float) -> bool:
        return self.event.wait(seconds)
