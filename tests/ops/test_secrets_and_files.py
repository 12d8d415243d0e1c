"""Secrets appear whole, the data stays private."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

from tests.ops.test_processes import ROOT

READ_SECRETS = """
import os, sys, time
from pathlib import Path
go = Path(sys.argv[1])
while not go.exists():
    time.sleep(0.001)
import tidings.settings as s
print(repr(s.SECRET_KEY), repr(s.SMTP_CAPTURE_SECRET))
"""


def _environ(data: Path) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("TIDINGS_", "DATABASE"))}
    return environ | {"TIDINGS_DATA_DIR": str(data)}


def test_processes_starting_together_all_read_one_whole_secret(tmp_path: Path) -> None:
    go = tmp_path / "go"
    command = [sys.executable, "-c", READ_SECRETS, str(go)]
    environ = _environ(tmp_path / "data")
    pipe = subprocess.PIPE
    processes = []
    for _ in range(12):
        processes.append(
            subprocess.Popen(command, env=environ, cwd=ROOT, stdout=pipe, stderr=pipe, text=True)
        )
    time.sleep(1.0)  # let every interpreter get to the starting line
    go.touch()
    results = [p.communicate(timeout=120) for p in processes]
    assert all(p.returncode == 0 for p in processes), [err for _, err in results]
    seen = {out.strip() for out, _ in results}
    assert len(seen) == 1, seen
    assert "''" not in seen.pop()


def test_an_empty_secret_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "smtp_capture_secret").write_text("")
    result = subprocess.run(
        [sys.executable, "-m", "tidings", "check"], env=_environ(data), cwd=ROOT,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode != 0
    assert "refusing to start" in result.stderr
    assert "TIDINGS_SMTP_CAPTURE_SECRET is empty" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_data_dir_and_database_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    subprocess.run(
        [sys.executable, "-m", "tidings", "migrate", "--verbosity", "0"], env=_environ(data),
        cwd=ROOT, check=True, timeout=300,
    )  # fmt: skip
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    files = [data / "tidings.sqlite3", data / "secret_key", data / "smtp_capture_secret"]
    files += [f for f in data.glob("tidings.sqlite3-*")]  # -wal, -shm while open
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


def test_a_reader_never_sees_a_secret_half_written(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The writer is held still right after opening its file: the other process must not read
    an empty secret in that moment (the race that 12 processes starting together hit)."""
    import threading

    from tidings.lib import env

    opened, resume = threading.Event(), threading.Event()
    real_fdopen = os.fdopen

    def slow_fdopen(fd, *args, **kwargs):  # type: ignore[no-untyped-def]
        if threading.current_thread().name == "slow-writer":
            opened.set()
            resume.wait(10)
        return real_fdopen(fd, *args, **kwargs)

    monkeypatch.setattr(os, "fdopen", slow_fdopen)
    monkeypatch.delenv("TIDINGS_TEST_SECRET", raising=False)
    found: dict[str, str] = {}

    def write() -> None:
        found["writer"] = env.secret("TIDINGS_TEST_SECRET", tmp_path, "test_secret")

    writer = threading.Thread(target=write, name="slow-writer")
    writer.start()
    assert opened.wait(10)
    try:
        found["reader"] = env.secret("TIDINGS_TEST_SECRET", tmp_path, "test_secret")
    finally:
        resume.set()
        writer.join(10)
    assert found["reader"]
    assert found["reader"] == found["writer"]
