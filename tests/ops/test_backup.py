"""`tidings backup` while Tidings sends, and `tidings restore` into a working installation."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.ops.test_processes import operator_env, tidings
from tests.paths import ROOT
from tests.smtp_helpers import sink_server
from tidings.ops.backup import BackupError, backup


def test_a_backup_made_during_a_send_restores_to_a_working_install(tmp_path: Path) -> None:
    live = operator_env(tmp_path / "live")
    tidings(live, "migrate", "--verbosity", "0")
    tidings(live, "create-account", "--code", "CITY", "--name", "City",
            "--sender-address", "news@tidings.localhost")  # fmt: skip
    tidings(live, "create-topic", "--account", "CITY", "--name", "Roads", "--code", "CITY_1")
    addresses = tmp_path / "readers.csv"
    addresses.write_text("".join(f"reader{n}@example.org\n" for n in range(2000)))
    tidings(live, "import-subscribers", str(addresses), "--account", "CITY",
            "--topic", "CITY_1", "--confirmed")  # fmt: skip
    body = tmp_path / "closure.md"
    body.write_text("Main Street closed\n\nUntil Friday.\n")
    tidings(live, "publish", str(body), "--account", "CITY", "--topic", "CITY_1")
    with sink_server() as sink:
        assert sink.relay is not None
        # About 12 s for the whole send (8 connections): the backup (a process to start) is
        # made well within it, even on a loaded machine; small chunks let the worker stop soon.
        sink.delay = 0.05
        env = live | {
            "TIDINGS_SMTP_RELAY": f"smtp://127.0.0.1:{sink.relay.port}",
            "TIDINGS_DELIVERY_CHUNK_SIZE": "50",
        }
        worker = subprocess.Popen([sys.executable, "-m", "tidings", "worker", "--role", "send"],
                                  env=env, cwd=ROOT, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while not sink.received:
                assert time.monotonic() < deadline, "the send never started"
                time.sleep(0.05)
            made = tidings(live, "backup", str(tmp_path / "backup"), "--json")
            assert len(sink.received) < 2000  # it was made while the send went on
        finally:
            worker.terminate()
            worker.wait(30)
    manifest = json.loads(made.stdout)
    assert {"tidings.sqlite3", "secret_key", "smtp_capture_secret"} <= set(manifest["files"])
    refused = tidings(live, "backup", str(tmp_path / "backup"), check=False)
    assert refused.returncode != 0 and "not empty" in refused.stderr

    restored = operator_env(tmp_path / "restored")
    tidings(restored, "migrate", "--verbosity", "0")  # a fresh installation holds a database
    refused = tidings(restored, "restore", str(tmp_path / "backup"), check=False)
    assert refused.returncode != 0 and "--force" in refused.stderr
    tidings(restored, "restore", str(tmp_path / "backup"), "--force")
    tidings(restored, "migrate", "--verbosity", "0")
    status = json.loads(tidings(restored, "status", "--json").stdout)
    (send,) = status["sends"]
    assert send["counts"]["total"] == 2000  # the whole send, each row as it was at the backup
    assert send["counts"]["sent"] + send["counts"]["queued"] + send["counts"]["sending"] == 2000
    for name in ("secret_key", "smtp_capture_secret"):
        assert (tmp_path / "restored" / "data" / name).read_text() == (
            tmp_path / "live" / "data" / name
        ).read_text()
    # The restored installation works: it takes a new subscriber and counts it.
    tidings(restored, "add-subscriber", "--account", "CITY", "--topic", "CITY_1", "new@example.org")
    count = tidings(restored, "django", "shell", "-c",
                    "from tidings.subscribers.models import Subscriber; "
                    "print(Subscriber.objects.count())").stdout  # fmt: skip
    assert count.strip().splitlines()[-1] == "2001"


@pytest.mark.django_db
def test_postgresql_is_backed_up_with_pg_dump(settings, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(settings.DATABASES["default"], "ENGINE", "x.postgresql")
    with pytest.raises(BackupError, match="pg_dump"):
        backup(tmp_path / "backup")
