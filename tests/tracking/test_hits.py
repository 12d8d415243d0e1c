"""Open and click hits counted in batches: exactly once, whether the process stops, is killed or
dies between writing a batch and deleting its journal."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.ops.test_processes import operator_env, tidings
from tests.paths import ROOT
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.delivery.models import Delivery
from tidings.tracking.hits import Hit, HitLog, read_journal, replay_orphans, write
from tidings.tracking.models import Click, HitBatch, Link, Open

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sent(account, topic, bob):  # type: ignore[no-untyped-def]
    bulletin = create_bulletin(
        account, subject="Talks", body="[a](https://a.example/)", topics=[topic]
    )
    publish_bulletin(bulletin)
    link = Link.objects.create(bulletin=bulletin, position=0, url="https://a.example/")
    return bulletin, Delivery.objects.get(address=bob.email), link


def test_a_batch_counts_each_open_and_click_and_keeps_first_and_last_times(sent) -> None:  # type: ignore[no-untyped-def]
    bulletin, delivery, link = sent
    hits = [Hit(delivery.pk, 100.0), Hit(delivery.pk, 300.0), Hit(delivery.pk, 200.0, link.pk)]
    hits += [Hit(delivery.pk, 250.0, link.pk), Hit(delivery.pk + 999, 100.0)]  # unknown delivery

    assert write("journal-1", hits)
    assert write("journal-2", [Hit(delivery.pk, 400.0)])

    opened = Open.objects.get()
    assert (opened.bulletin_id, opened.count) == (bulletin.pk, 3)
    assert (opened.first_at.timestamp(), opened.last_at.timestamp()) == (100.0, 400.0)
    click = Click.objects.get()
    assert (click.link_id, click.count, click.first_at.timestamp()) == (link.pk, 2, 200.0)


def test_a_journal_is_never_counted_twice(sent) -> None:  # type: ignore[no-untyped-def]
    _, delivery, _ = sent
    assert write("journal-1", [Hit(delivery.pk, 100.0)])
    assert not write("journal-1", [Hit(delivery.pk, 100.0)])
    assert Open.objects.get().count == 1


def test_a_click_on_another_bulletins_link_is_not_counted(sent, account, topic) -> None:  # type: ignore[no-untyped-def]
    _, delivery, _ = sent
    other = create_bulletin(account, subject="Other", body="x", topics=[topic])
    foreign = Link.objects.create(bulletin=other, position=0, url="https://b.example/")
    write("journal-1", [Hit(delivery.pk, 100.0, foreign.pk)])
    assert not Click.objects.exists()


def test_the_log_writes_its_hits_and_deletes_its_journal(sent, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, delivery, link = sent
    log = HitLog(tmp_path)
    for _ in range(5):
        log.add(Hit(delivery.pk, time.time()))
    log.add(Hit(delivery.pk, time.time(), link.pk))
    assert len(read_journal(log.path)) == 6

    assert log.flush() == 6
    log.close()

    assert (Open.objects.get().count, Click.objects.get().count) == (5, 1)
    assert list(tmp_path.iterdir()) == []


def test_a_journal_left_by_a_dead_process_is_counted_once(sent, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, delivery, _ = sent
    # What a killed process leaves: its journal, no longer locked, the last line cut off.
    orphan = tmp_path / "host-1234-1-1.hits"
    orphan.write_bytes(Hit(delivery.pk, 100.0).line() * 3 + b"17 0 12")
    # And one that died after its batch was written, before deleting the journal.
    written = tmp_path / "host-1235-1-1.hits"
    written.write_bytes(Hit(delivery.pk, 100.0).line())
    HitBatch.objects.create(name=written.name)

    assert replay_orphans(tmp_path) == 3
    assert replay_orphans(tmp_path) == 0

    assert Open.objects.get().count == 3
    assert list(tmp_path.iterdir()) == []


def test_a_live_processs_journal_is_left_alone(sent, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, delivery, _ = sent
    log = HitLog(tmp_path)
    log.add(Hit(delivery.pk, 100.0))
    assert replay_orphans(tmp_path) == 0
    assert log.path.exists()
    log.close()
    assert Open.objects.get().count == 1


# The real web server: granian processes answering the open image over HTTP.


def shell(env: dict[str, str], *code: str) -> str:
    """What the last line of the code printed, run in the installation's Django shell."""
    return tidings(env, "django", "shell", "-c", "\n".join(code)).stdout.splitlines()[-1]


def opens(env: dict[str, str]) -> int:
    return int(
        shell(
            env,
            "from django.db.models import Sum",
            "from tidings.tracking.models import Open",
            "print(Open.objects.aggregate(n=Sum('count'))['n'] or 0)",
        )
    )


def start_web(env: dict[str, str]) -> subprocess.Popen[bytes]:
    web = subprocess.Popen(
        [sys.executable, "-m", "tidings", "web", "--listen", f"127.0.0.1:{env['HTTP_PORT']}"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{env['TIDINGS_BASE_URL']}/healthz", timeout=2)
            return web
        except urllib.error.HTTPError:
            return web  # answering (503 without workers is an answer)
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the web server did not start")


@pytest.fixture
def installation(tmp_path):  # type: ignore[no-untyped-def]
    env = operator_env(tmp_path)
    tidings(env, "demo", "--no-serve")
    token = shell(
        env,
        "from tidings.delivery.models import Delivery",
        "from tidings.tracking.tokens import recipient_token",
        "print(recipient_token(Delivery.objects.filter(send__kind='bulletin').first().pk))",
    )
    return env, f"{env['TIDINGS_BASE_URL']}/t/o/{token}.gif"


def load(url: str, times: int) -> None:
    for _ in range(times):
        with urllib.request.urlopen(url, timeout=5) as response:
            assert response.read().startswith(b"GIF89a")


@pytest.mark.slow
def test_the_web_server_writes_its_hits_when_told_to_stop(installation) -> None:  # type: ignore[no-untyped-def]
    env, url = installation
    web = start_web(env)
    try:
        load(url, 300)
    finally:
        web.send_signal(signal.SIGTERM)
        code = web.wait(30)
    assert code == 0
    assert opens(env) == 300
    assert list((Path(env["TIDINGS_DATA_DIR"]) / "hits").glob("*.hits")) == []


@pytest.mark.slow
def test_hits_of_a_killed_web_server_are_counted_when_it_starts_again(installation) -> None:  # type: ignore[no-untyped-def]
    env, url = installation
    web = start_web(env)
    try:
        load(url, 300)
    finally:
        os.killpg(web.pid, signal.SIGKILL)  # the server and its processes, before a batch is due
        web.wait(30)
    counted_before = opens(env)
    assert list((Path(env["TIDINGS_DATA_DIR"]) / "hits").glob("*.hits"))

    web = start_web(env)
    try:
        deadline = time.monotonic() + 15
        while opens(env) < 300 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert (counted_before, opens(env)) == (counted_before, 300)
    finally:
        web.send_signal(signal.SIGTERM)
        web.wait(30)


def test_a_full_journal_is_closed_and_the_next_one_begun(sent, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _, delivery, _ = sent
    monkeypatch.setattr("tidings.tracking.hits.JOURNAL_LINES", 4)
    log = HitLog(tmp_path)
    for _ in range(10):
        log.add(Hit(delivery.pk, time.time()))
    journals = sorted(tmp_path.glob("*.hits"))
    assert len(journals) == 3
    assert sorted(len(read_journal(path)) for path in journals) == [2, 4, 4]

    assert log.flush() == 10
    log.close()
    assert Open.objects.get().count == 10
    assert list(tmp_path.iterdir()) == []


def test_a_journal_being_made_is_never_taken_for_an_orphan(
    sent, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    _, delivery, _ = sent
    seen: list[list[str]] = []
    real_flock = fcntl.flock

    def flock_after_a_replay(fd: int, operation: int) -> None:
        # Another process replays orphans right between the journal's creation and its lock.
        if operation == fcntl.LOCK_EX and not seen:
            seen.append(sorted(p.name for p in tmp_path.iterdir()))
            replay_orphans(tmp_path)
        real_flock(fd, operation)

    monkeypatch.setattr("tidings.tracking.hits.fcntl.flock", flock_after_a_replay)
    log = HitLog(tmp_path)
    monkeypatch.setattr("tidings.tracking.hits.fcntl.flock", real_flock)
    log.add(Hit(delivery.pk, time.time()))
    assert seen and all(not name.endswith(".hits") for name in seen[0])
    assert log.path.exists()  # the replay left it alone
    assert [h.delivery_id for h in read_journal(log.path)] == [delivery.pk]
    log.close()
