"""A live progress bar for a send, for the command line."""

from __future__ import annotations

import signal
import threading
from typing import IO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from tidings.delivery.actions import send_counts
from tidings.delivery.models import Delivery, Send


class RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f}/s" if speed else "-/s")


class StoppedFollowing(Exception):
    """Ctrl-C while following: the send itself carries on (the workers send it)."""


def follow(send: Send, out: IO[str], interval: float = 0.5) -> dict[str, int]:
    """Show sent, deferred, failed, rate and ETA until the send stops running; return counts.

    Ctrl-C stops following (StoppedFollowing), never the send. It only sets a flag, read
    between two refreshes: an interrupt in the middle of a query or of the bar's drawing could
    leave either half done."""
    stop = threading.Event()
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set()) if main else None
    try:
        counts = _follow(send, out, interval, stop)
    finally:
        if main:
            signal.signal(signal.SIGINT, previous)
    if counts is None:
        raise StoppedFollowing(
            f"Stopped following send #{send.pk}; it carries on: the workers keep sending. "
            f"`tidings status {send.pk}` shows it, `tidings pause {send.pk}` pauses it."
        )
    return counts


def _follow(
    send: Send, out: IO[str], interval: float, stop: threading.Event
) -> dict[str, int] | None:
    columns = (
        TextColumn("send #{task.fields[send]}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(file=out), speed_estimate_period=10) as progress:
        task = progress.add_task("send", total=None, send=send.pk, detail="")
        while True:
            send.refresh_from_db()
            counts = send_counts(send)
            done = sum(counts[s] for s in Delivery.TERMINAL)
            detail = (
                f"sent {counts['sent']:,} · deferred {counts['deferred']:,} · "
                f"rate-limited {counts['throttled']:,} · failed {counts['failed']:,}"
            )
            progress.update(task, total=counts["total"], completed=done, detail=detail)
            if send.state not in (Send.PREPARING, Send.SENDING):
                return counts
            if stop.wait(interval):
                return None
