"""`tidings web` as an operator runs it: granian processes, static files, a reload on SIGHUP."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request
from email.message import Message
from pathlib import Path

import pytest

from tests.ops.test_processes import operator_env, tidings
from tests.paths import ROOT

pytestmark = pytest.mark.slow


def children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(c) for c in (task / "children").read_text().split()}
    return found


def get(url: str) -> tuple[int, Message, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.headers, response.read()


def test_it_serves_with_a_process_per_core_and_reloads_them_on_sighup(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = operator_env(tmp_path)
    tidings(env, "migrate")
    base = env["TIDINGS_BASE_URL"]
    web = subprocess.Popen(
        [sys.executable, "-m", "tidings", "web", "--listen", f"127.0.0.1:{env['HTTP_PORT']}",
         "--processes", "2"],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, headers, page = get(f"{base}/")
                break
            except OSError:
                assert time.monotonic() < deadline, "the web server did not start"
                time.sleep(0.2)
        assert status == 200 and headers["ETag"].startswith('"')
        before = children(web.pid)
        assert len(before) == 2

        stylesheet = page.decode().split('href="')[1].split('"')[0]
        status, headers, css = get(base + stylesheet)
        assert (status, headers["Cache-Control"]) == (200, "max-age=31536000")
        assert b"font" in css

        web.send_signal(signal.SIGHUP)
        answers = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            answers.append(get(f"{base}/")[0])
            after = children(web.pid)
            if len(after) == 2 and not after & before:
                break
            time.sleep(0.05)
        assert len(after) == 2 and not after & before, "the processes were not replaced"
        assert set(answers) == {200}  # every request answered during the reload
    finally:
        web.send_signal(signal.SIGTERM)
        output, _ = web.communicate(timeout=40)
    assert web.returncode == 0, output
