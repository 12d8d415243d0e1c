"""Open and click hits, answered at once and written to the database in batches.

A million-recipient send brings a million open-image loads back within minutes (Apple Mail
fetches every image at delivery), so a hit must not wait for the database. Each web process
writes the hit into a journal file of its own, mapped into memory (one fixed-width line, no
system call: a write() per hit let go of the interpreter lock each time and halved the rate
under load, bench/web.py), and keeps it in memory; a flusher thread writes what gathered at most
a second or a thousand hits later, in one transaction that also records the journal's name
(`HitBatch`), and then deletes the journal. What is written into the mapping is in the operating
system's page cache at once, so it outlives the process, like a write() would. A journal left
behind by a process that was killed is replayed by the next flush of any process on the
machine: when its name is recorded it was written already and is only deleted, otherwise it is
written now. So a hit is counted once, whenever the process stops. (A crash of the whole
machine may lose what the operating system had not yet written to disk.)
"""

from __future__ import annotations

import atexit
import base64
import fcntl
import logging
import mmap
import multiprocessing.util
import os
import threading
import time
from collections.abc import Iterable
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection, transaction

from tidings.delivery.models import Delivery, Send
from tidings.lib.tokens import BadToken
from tidings.tracking.models import Click, HitBatch, Link, Open
from tidings.tracking.tokens import read_recipient_token

log = logging.getLogger("tidings.tracking")

# Set by tidings.wsgi (start_background): a web server process writes its hits from a thread of
# its own. Elsewhere (the test client, a shell) they wait for flush().
background = False
BATCH_HITS = 1000
BATCH_SECONDS = 1.0
# A journal holds this many fixed-width lines; a full one is closed and another one begun.
JOURNAL_LINES = 4096
LINE = 64
# The open image: a transparent 1x1 GIF.
GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


class Hit(NamedTuple):
    delivery_id: int
    at: float
    link_id: int = 0  # 0: the open image

    def line(self) -> bytes:
        """The hit as one journal line of LINE bytes (space-padded)."""
        return f"{self.delivery_id} {self.link_id} {self.at:.3f}".ljust(LINE - 1).encode() + b"\n"

    @classmethod
    def parse(cls, line: bytes) -> Hit | None:
        try:
            delivery, link, at = line.split()
            return cls(int(delivery), float(at), int(link))
        except ValueError:
            return None  # the last line of a journal cut off mid-write


def _chunks(items: Iterable[int], size: int = 1000) -> Iterable[list[int]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def write(name: str, hits: list[Hit]) -> bool:
    """Count the hits of one journal, once: False when that journal was counted before."""
    from datetime import UTC, datetime

    def when(ts: float) -> datetime:
        return datetime.fromtimestamp(ts, UTC)

    with transaction.atomic():
        _, created = HitBatch.objects.get_or_create(name=name)
        if not created:
            return False
        bulletin_of: dict[int, int] = {}
        for ids in _chunks({h.delivery_id for h in hits}):
            bulletin_of.update(
                Delivery.objects.filter(pk__in=ids, send__kind=Send.BULLETIN).values_list(
                    "pk", "send__bulletin_id"
                )
            )
        link_bulletin: dict[int, int] = {}
        for ids in _chunks({h.link_id for h in hits if h.link_id}):
            link_bulletin.update(Link.objects.filter(pk__in=ids).values_list("pk", "bulletin_id"))
        opens: dict[int, list[float]] = {}
        clicks: dict[tuple[int, int], list[float]] = {}
        for hit in hits:
            bulletin = bulletin_of.get(hit.delivery_id)
            if bulletin is None:
                continue
            if not hit.link_id:
                opens.setdefault(hit.delivery_id, []).append(hit.at)
            elif link_bulletin.get(hit.link_id) == bulletin:
                clicks.setdefault((hit.delivery_id, hit.link_id), []).append(hit.at)
        table = Open._meta.db_table
        _upsert(
            f"INSERT INTO {table} AS t (delivery_id, bulletin_id, first_at, last_at, count) "  # noqa: S608
            f"VALUES (%s, %s, %s, %s, %s) ON CONFLICT (delivery_id) DO UPDATE SET "
            f"count = t.count + excluded.count, last_at = CASE WHEN excluded.last_at > t.last_at "
            f"THEN excluded.last_at ELSE t.last_at END",
            [(d, bulletin_of[d], when(min(ts)), when(max(ts)), len(ts)) for d, ts in opens.items()],
        )
        table = Click._meta.db_table
        _upsert(
            f"INSERT INTO {table} AS t "  # noqa: S608
            f"(delivery_id, link_id, bulletin_id, first_at, last_at, count) "
            f"VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (delivery_id, link_id) DO UPDATE SET "
            f"count = t.count + excluded.count, last_at = CASE WHEN excluded.last_at > t.last_at "
            f"THEN excluded.last_at ELSE t.last_at END",
            [
                (d, link, link_bulletin[link], when(min(ts)), when(max(ts)), len(ts))
                for (d, link), ts in clicks.items()
            ],
        )
    return True


def _upsert(sql: str, rows: list[tuple[Any, ...]]) -> None:
    if rows:
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)


def read_journal(path: Path) -> list[Hit]:
    """The hits in a journal; what follows the last newline was never written (zeros) or was cut
    off by a kill: skipped."""
    lines = path.read_bytes().split(b"\n")[:-1]
    return [hit for line in lines if (hit := Hit.parse(line))]


class Journal(NamedTuple):
    path: Path
    fd: int
    map: mmap.mmap


class HitLog:
    """One process's journal and buffer, and the thread that writes them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.serial = 0
        # Journals closed, not yet written, each with its hits.
        self.pending: list[tuple[Journal, list[Hit]]] = []
        self.hits: list[Hit] = []
        self.journal = self._open_journal()
        self.thread: threading.Thread | None = None
        self.pid = os.getpid()

    @property
    def path(self) -> Path:
        return self.journal.path

    def _open_journal(self) -> Journal:
        self.serial += 1
        path = (
            self.folder / f"{os.uname().nodename}-{os.getpid()}-{time.time_ns()}-{self.serial}.hits"
        )
        # Made under another name and locked before it takes its own: another process's
        # replay_orphans must never find it unlocked (it would take it for a dead process's
        # empty journal and delete it, and this process's hits would then go to no file).
        making = path.with_suffix(".new")
        fd = os.open(making, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)  # held while this process lives: not an orphan
        os.ftruncate(fd, JOURNAL_LINES * LINE)  # zeros, taking no disk until written
        os.rename(making, path)  # the lock belongs to the file, whatever its name
        return Journal(path, fd, mmap.mmap(fd, JOURNAL_LINES * LINE))

    def _next_journal(self) -> None:
        """Close the journal (its hits wait in pending) and begin another; under the lock."""
        self.pending.append((self.journal, self.hits))
        self.hits = []
        self.journal = self._open_journal()

    def add(self, hit: Hit) -> None:
        with self.lock:
            if len(self.hits) == JOURNAL_LINES:
                self._next_journal()
            at = len(self.hits) * LINE
            self.journal.map[at : at + LINE] = hit.line()
            self.hits.append(hit)
            full = len(self.hits) >= BATCH_HITS
        if full:
            self.wake.set()
        if self.thread is None and background:
            self.start()

    def start(self) -> None:
        with self.lock:
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name="tidings-hits", daemon=True)
                self.thread.start()

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.flush()
                replay_orphans(self.folder)
            except Exception:
                log.exception("could not write open and click hits; they stay in the journal")
            finally:
                connection.close()
            self.wake.wait(BATCH_SECONDS)
            self.wake.clear()

    def flush(self) -> int:
        """Write every hit gathered so far; return how many were written."""
        with self.lock:
            if self.hits:
                self._next_journal()
            pending, self.pending = self.pending, []
        written = 0
        for i, (journal, hits) in enumerate(pending):
            try:
                write(journal.path.name, hits)
            except Exception:
                with self.lock:
                    self.pending[:0] = pending[i:]
                raise
            journal.path.unlink(missing_ok=True)
            journal.map.close()
            os.close(journal.fd)
            written += len(hits)
        return written

    def close(self) -> None:
        """Stop the thread and write what is left (at shutdown)."""
        self.stopping.set()
        self.wake.set()
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join(10)
        self.flush()
        with self.lock:
            if not self.hits:
                self.journal.path.unlink(missing_ok=True)


def replay_orphans(folder: Path) -> int:
    """Write the journals of processes that are gone; return how many hits were counted."""
    counted = 0
    for path in sorted(folder.glob("*.hits")):
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # its process is alive (or another process replays it)
            if not path.exists():
                continue
            hits = read_journal(path)
            if hits and write(path.name, hits):
                counted += len(hits)
            path.unlink(missing_ok=True)
        finally:
            os.close(fd)
    return counted


_log: HitLog | None = None
_log_lock = threading.Lock()


def hit_log() -> HitLog:
    """This process's HitLog (made anew after a fork)."""
    global _log
    log = _log
    if log is not None and log.pid == os.getpid():
        return log  # the common case, without the lock
    with _log_lock:
        if _log is None or _log.pid != os.getpid():
            _log = HitLog(Path(settings.DATA_DIR) / "hits")
            # Web server processes end through multiprocessing (its finalizers run, not atexit)
            # or as a plain process (atexit); either way the hits are written first.
            atexit.register(shutdown)
            multiprocessing.util.Finalize(None, shutdown, exitpriority=100)
        return _log


def start_background() -> None:
    """Write hits from a thread of this process from now on (a web server process), and replay
    at once the journals that processes killed before left behind."""
    global background
    background = True
    hit_log().start()


def shutdown() -> None:
    """Write this process's hits (the web servers call it when they stop)."""
    if _log is not None and _log.pid == os.getpid():
        _log.close()


def count_open(token: str) -> None:
    """Count a load of the open image when the token is genuine (never raises: a mail client
    must never see an error for an image)."""
    try:
        hit_log().add(Hit(read_recipient_token(token), time.time()))
    except BadToken:
        pass
    except OSError:
        log.exception("could not record an open")


@lru_cache(maxsize=10000)
def link_target(link: int) -> tuple[int, str] | None:
    """A link's bulletin and address (a sent bulletin's links never change)."""
    return Link.objects.filter(pk=link).values_list("bulletin_id", "url").first()


def count_click(token: str, link: int) -> str | None:
    """The address a click goes to, or None (bad token, no such link). The click is counted in
    the next batch, and only if the token's delivery carried the link's bulletin: checking that
    here would make every click wait for the database."""
    try:
        delivery_id = read_recipient_token(token)
    except BadToken:
        return None
    target = link_target(link)
    if target is None:
        return None
    hit_log().add(Hit(delivery_id, time.time(), link))
    return target[1]
