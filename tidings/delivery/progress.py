"""A live progress bar for a send, for the command line."""

from __future__ import annotations

import time
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

    Ctrl-C stops following (StoppedFollowing), never the send."""
    try:
        return _follow(send, out, interval)
    except KeyboardInterrupt:
        raise StoppedFollowing(
            f"Stopped following send #{send.pk}; it carries on: the workers keep sending. "
            f"`tidings status {send.pk}` shows it, `tidings pause {send.pk}` pauses it."
        ) from None


def _follow(send: Send, out: IO[str], interval: float) -> dict[str, int]:
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
            time.sleep(interval)
