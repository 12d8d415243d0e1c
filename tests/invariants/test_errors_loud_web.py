"""Errors are loud under the real web server too: granian's processes keep settings.LOGGING, so
a page that fails is a JSON line with its traceback on standard error, /healthz counts it, and
the reader gets the 500 page in their language (here with no database to be had at all)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.ops.test_processes import operator_env
from tests.paths import ROOT
from tests.smtp_helpers import free_port


def fetch(url: str, language: str = "en") -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Accept-Language": language})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_a_failing_page_under_the_web_server_is_one_json_line_with_its_traceback(
    tmp_path: Path,
) -> None:
    env = operator_env(tmp_path) | {
        "TIDINGS_LOG_FORMAT": "json",
        # A PostgreSQL server that is not there: every page that reads the database fails.
        "DATABASE_URL": f"postgres://tidings@127.0.0.1:{free_port()}/tidings",
    }
    base = env["TIDINGS_BASE_URL"]
    log = tmp_path / "web.log"
    with log.open("wb") as stderr:
        web = subprocess.Popen(
            [sys.executable, "-m", "tidings", "web", "--listen", f"127.0.0.1:{env['HTTP_PORT']}",
             "--processes", "1"],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    status, page = fetch(f"{base}/", "sw")
                    break
                except OSError:
                    assert time.monotonic() < deadline, "the web server did not start"
                    time.sleep(0.2)
            health = json.loads(fetch(f"{base}/healthz")[1])
        finally:
            web.terminate()
            web.wait(30)
    assert status == 500 and "<h1>Hitilafu imetokea</h1>" in page.decode()
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    # (/healthz's 503 is a line too, without a traceback: an answer, not a failure.)
    (failed,) = [line for line in lines if "traceback" in line]
    assert failed["level"] == "ERROR" and failed["logger"] == "django.request"
    assert failed["message"] == "Internal Server Error: /"
    assert "OperationalError" in failed["traceback"]
    assert health["checks"]["database"].startswith("failed")
    assert health["server_errors_last_hour"] == 1


def test_a_command_that_stops_on_an_error_logs_it_with_its_traceback(tmp_path: Path) -> None:
    """An unexpected error in a long-running command (here the SMSC's port already taken) is a
    JSON line with its traceback and exit status 1, not a bare traceback on standard error."""
    env = operator_env(tmp_path) | {"TIDINGS_LOG_FORMAT": "json"}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "tidings", "smsc", "--listen", f"127.0.0.1:{port}"],
            env=env, cwd=ROOT, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert done.returncode == 1
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    (failed,) = [line for line in lines if "traceback" in line]
    assert failed["logger"] == "tidings.commands"
    assert failed["message"] == "tidings smsc stopped on an error"
    assert "OSError" in failed["traceback"] or "Address already in use" in failed["traceback"]
    assert not done.stderr.startswith("Traceback")
