"""Tidings as an operator runs it: real processes, a fresh data directory, real sockets."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.paths import ROOT
from tests.smtp_helpers import free_port


@pytest.fixture
def env(tmp_path):  # type: ignore[no-untyped-def]
    return operator_env(tmp_path)


def operator_env(tmp_path: Path) -> dict[str, str]:
    """A fresh data directory and free ports, the environment of one installation."""
    http, smtp = free_port(), free_port()
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TIDINGS_", "DATABASE_URL", "DJANGO_"))
    }
    environ |= {
        "TIDINGS_DATA_DIR": str(tmp_path / "data"),
        "TIDINGS_BASE_URL": f"http://127.0.0.1:{http}",
        "TIDINGS_SMTP_LISTEN": f"127.0.0.1:{smtp}",
        "TIDINGS_SMSC_LISTEN": f"127.0.0.1:{free_port()}",
        "HTTP_PORT": str(http),
    }
    return environ


def tidings(env, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    return subprocess.run(
        [sys.executable, "-m", "tidings", *args],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=check,
    )  # fmt: skip


def wait_for(url: str, text: str, seconds: float = 45) -> str:
    deadline = time.monotonic() + seconds
    page = ""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                page = response.read().decode()
            if text in page:
                return page
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{text!r} never appeared at {url}; last page:\n{page[:2000]}")


def sent_counts(env) -> dict[str, int]:  # type: ignore[no-untyped-def]
    status = json.loads(tidings(env, "status", "--json").stdout)
    return {s["kind"]: s["counts"]["sent"] for s in status["sends"]}


def wait_until(condition, seconds: float = 45) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.5)


@pytest.mark.one_database  # `make demo` runs on SQLite (the README journeys follow it too)
def test_it_runs_the_demo_chain_under_serve_and_stops_on_sigterm(env):  # type: ignore[no-untyped-def]
    seeded = tidings(env, "demo", "--no-serve")
    assert "Published the press release" in seeded.stdout
    base = env["TIDINGS_BASE_URL"]
    server = subprocess.Popen(
        [sys.executable, "-m", "tidings", "serve", "--http", f"127.0.0.1:{env['HTTP_PORT']}",
         "--smtp", env["TIDINGS_SMTP_LISTEN"], "--no-migrate"],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    failure = None
    try:
        # Filed under the day the list received it (Date: is the sending time), in the list's
        # own time zone: the demo's Kenyan list lives in Nairobi's.
        today = datetime.now(ZoneInfo("Africa/Nairobi"))
        page = wait_for(f"{base}/lists/wanabidii/", f"{today:%A}, {today.day} {today:%B %Y}")
        assert "[wanabidii] Press Releases: United States and Cuba Hold Migration Talks" in page
        # The post is archived when the list accepts it; its copies to the members follow.
        wait_until(lambda: sent_counts(env).get("list_post") == 3)
    except AssertionError as exc:
        failure = exc
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    if failure is not None:
        raise AssertionError(f"{failure}\n--- tidings serve said ---\n{output[-4000:]}")
    assert server.returncode == 0, output
    assert "Tidings stopped." in output

    # The list and reader@example.org; then the list's three members.
    assert sent_counts(env) == {"bulletin": 2, "list_post": 3}


def test_it_does_the_whole_chain_from_the_command_line(env, tmp_path):  # type: ignore[no-untyped-def]
    tidings(env, "migrate", "--verbosity", "0")
    tidings(env, "create-account", "--code", "CITYNEWS", "--name", "City of Springfield",
            "--sender-address", "news@tidings.localhost",
            "--time-zone", "America/Chicago")  # fmt: skip
    topic = json.loads(tidings(env, "create-topic", "--account", "CITYNEWS",
                               "--name", "Road Closures", "--json").stdout)  # fmt: skip
    created = json.loads(tidings(env, "create-list", "springfield", "--json").stdout)
    assert created["address"] == "springfield@lists.tidings.localhost"
    tidings(env, "add-member", "springfield", "homer@example.org")
    tidings(env, "allow-sender", "springfield", "news@tidings.localhost")
    tidings(env, "add-subscriber", "--account", "CITYNEWS", "--topic", topic["code"],
            "springfield@lists.tidings.localhost")  # fmt: skip
    release = tmp_path / "closure.md"
    release.write_text(
        "Main Street Closed Saturday\n\nMain Street is closed from 8 am for the parade.\n"
    )
    published = json.loads(tidings(env, "publish", str(release), "--account", "CITYNEWS",
                                   "--topic", topic["code"], "--json").stdout)  # fmt: skip
    assert published["recipients"] == 1

    smtpd = subprocess.Popen([sys.executable, "-m", "tidings", "smtpd"], env=env, cwd=ROOT)
    try:
        time.sleep(1.5)
        tidings(env, "worker", "--once")
    finally:
        smtpd.send_signal(signal.SIGTERM)
        smtpd.wait(timeout=15)
    assert smtpd.returncode == 0

    sends = json.loads(tidings(env, "status", "--json").stdout)["sends"]
    assert [(s["kind"], s["state"], s["counts"]["sent"]) for s in sends] == [
        ("list_post", "done", 1),
        ("bulletin", "done", 1),
    ]


def test_it_explains_bad_input_on_the_command_line(env):  # type: ignore[no-untyped-def]
    tidings(env, "migrate", "--verbosity", "0")
    result = tidings(env, "create-account", "--code", "bad code", "--name", "X",
                     "--sender-address", "not-an-address", check=False)  # fmt: skip
    assert result.returncode != 0
    assert "code:" in result.stderr
    assert "sender_address:" in result.stderr
    missing = tidings(env, "create-topic", "--account", "NOPE", "--name", "T", check=False)
    assert "No account NOPE." in missing.stderr


def test_it_creates_a_list_holding_first_time_comments(env):  # type: ignore[no-untyped-def]
    tidings(env, "migrate", "--verbosity", "0")
    tidings(env, "create-list", "firsts", "--comments", "first")
    shown = tidings(env, "django", "shell", "-c",
                    "from tidings.lists.models import MailingList; "
                    "print(MailingList.objects.get(name='firsts').comment_moderation)")  # fmt: skip
    assert shown.stdout.strip().endswith("first")
