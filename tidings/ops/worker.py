"""A worker process and the roles it plays: send, route, jobs, texts.

Each role runs on its own thread and database connection, so a long feed poll or CSV import
(jobs) never holds back sending, and list posts are routed as they arrive while a large send
runs. `tidings worker` plays every role unless told `--role`; `tidings serve` starts workers
that play them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
from collections.abc import Callable, Coroutine, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from django.db import close_old_connections
from django.utils import timezone

from tidings.delivery.smtp import Relay
from tidings.delivery.worker import Sender, finish_sends, process_chunk
from tidings.inbound.router import route_one
from tidings.ops.models import Heartbeat
from tidings.ops.periodic import run_due

log = logging.getLogger("tidings.worker")

ROLES = ("send", "route", "jobs", "texts")
HEARTBEAT_EVERY = 5.0  # seconds


def route_batch(limit: int = 500) -> bool:
    """Route received messages until none waits (at most limit); return whether any was."""
    routed = 0
    while routed < limit and route_one():
        routed += 1
    return routed > 0


def run_jobs() -> bool:
    """Run the periodic jobs that are due; return whether any ran."""
    return run_due()


def step() -> bool:
    """Do one unit of every role's work: route a message, send a chunk, or run a due job."""
    return route_one() or process_chunk() > 0 or run_due()


def drain(limit: int = 10_000) -> int:
    """Run steps until there is nothing left to do right now; return how many ran.

    On the calling thread and its connection (a test's transaction sees it all); the Worker
    below runs the same steps on threads of their own.
    """
    for done in range(limit):
        if not step():
            finish_sends()
            return done
    return limit


def texts_step() -> Callable[[], bool]:
    """The texts role's step: a TextSender made on first use, on the role's own thread (its
    SMPP session belongs to that thread)."""
    from tidings.texts.sender import TextSender

    sender: list[TextSender] = []

    def texts() -> bool:
        if not sender:
            sender.append(TextSender())
        return sender[0].step()

    return texts


def beat(worker: str, roles: tuple[str, ...], started: datetime) -> bool:
    """Say this worker is alive (for /healthz); never counts as work done."""
    Heartbeat.objects.update_or_create(
        worker=worker,
        defaults={"roles": ",".join(roles), "started_at": started, "seen_at": timezone.now()},
    )
    return False


def guarded(func: Callable[[], bool]) -> Callable[[], bool]:
    """Run a role's step so that a failure (a lost database connection) is logged and the
    next round starts on a new connection, instead of ending the role."""

    # A step may be a functools.partial, which has no __name__ of its own.
    name = getattr(func, "__name__", None) or getattr(
        getattr(func, "func", None), "__name__", repr(func)
    )

    def call() -> bool:
        try:
            return func()
        except Exception:
            log.exception("%s failed; trying again", name)
            close_old_connections()
            return False

    return call


class Worker:
    """The roles of one worker process, run side by side until stopped."""

    def __init__(
        self, relay: Relay | None = None, idle: float = 0.5, roles: Iterable[str] = ROLES
    ) -> None:
        self.roles = tuple(roles)
        unknown = set(self.roles) - set(ROLES)
        if unknown or not self.roles:
            raise ValueError(f"roles are {', '.join(ROLES)}; not {', '.join(sorted(unknown))}")
        self.idle = idle
        self.stop = asyncio.Event()
        self.sender = Sender(relay, idle, self.stop) if "send" in self.roles else None
        self.steps: dict[str, Callable[[], bool]] = {}
        if "route" in self.roles:
            self.steps["route"] = route_batch
        if "jobs" in self.roles:
            self.steps["jobs"] = run_jobs
        if "texts" in self.roles:
            self.steps["texts"] = texts_step()
        # A heartbeat every few seconds, on its own thread and connection (/healthz reads it):
        # the process is alive and reaches the database.
        name = f"{socket.gethostname()}:{os.getpid()}"
        started = timezone.now()
        self.steps["beat"] = functools.partial(beat, name, self.roles, started)
        self.threads = {
            role: ThreadPoolExecutor(1, thread_name_prefix=f"tidings-{role}") for role in self.steps
        }

    async def on_thread(self, role: str) -> bool:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.threads[role], guarded(self.steps[role]))

    async def repeat(self, role: str) -> None:
        """Run a role's step again and again, resting while it finds nothing to do."""
        rest = HEARTBEAT_EVERY if role == "beat" else self.idle
        while not self.stop.is_set():
            if not await self.on_thread(role):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), rest)

    async def run(self, once: bool = False) -> None:
        """Play the roles until stopped (once: until a round finds nothing to do)."""
        try:
            if once:
                await self.run_once()
            else:
                loops: list[Coroutine[Any, Any, object]] = [self.repeat(r) for r in self.steps]
                if self.sender is not None:
                    loops.append(self.sender.run())
                await asyncio.gather(*loops)
        finally:
            loop = asyncio.get_running_loop()
            for executor in self.threads.values():
                await loop.run_in_executor(executor, close_old_connections)
                executor.shutdown()

    async def run_once(self) -> None:
        # In turn, so that what one role makes (a routed post's send) the next one finds.
        while not self.stop.is_set():
            busy = False
            if "route" in self.steps:
                while await self.on_thread("route"):
                    busy = True
            if self.sender is not None:
                # A new Sender each round: one that has finished has shut its thread down.
                sender = Sender(self.sender.relay, self.idle, self.stop)
                busy = await sender.run(once=True) > 0 or busy
            if "jobs" in self.steps:
                busy = await self.on_thread("jobs") or busy
            await self.on_thread("beat")
            if not busy:
                return
