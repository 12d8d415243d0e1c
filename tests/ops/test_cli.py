"""The `tidings` command as an operator meets it: grouped help, dashed names, clear stops."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
from importlib.metadata import version

import pytest

from tests.ops.test_processes import operator_env, tidings
from tests.paths import ROOT
from tidings.cli import GROUPS, django_name


@pytest.fixture
def env(tmp_path):  # type: ignore[no-untyped-def]
    return operator_env(tmp_path)


def test_help_lists_the_commands_by_task_and_hides_djangos(env) -> None:  # type: ignore[no-untyped-def]
    shown = tidings(env, "--help").stdout
    assert shown == tidings(env).stdout == tidings(env, "help").stdout
    headings = re.findall(r"^(\w[\w ]*):$", shown, re.MULTILINE)
    assert headings == [
        "Run",
        "Set up",
        "Publish",
        "Subscribers",
        "Lists",
        "Feeds",
        "Texts",
        "Maintain",
    ]
    assert re.search(r"^  create-account +Create an account", shown, re.MULTILINE)
    for internal in (
        "startapp",
        "flush",
        "runserver",
        "sendtestemail",
        "dbshell",
        "create_account",
    ):
        assert not re.search(rf"^  {internal}\b", shown, re.MULTILINE)
    # One line each.
    assert all(len(line) <= 120 for line in shown.splitlines())


def test_every_tidings_command_is_listed_once() -> None:
    listed = [django_name(n) for commands in GROUPS.values() for n in commands]
    assert len(listed) == len(set(listed))
    own = {p.stem for p in ROOT.glob("tidings/*/management/commands/*.py")} - {"__init__"}
    assert own <= set(listed), own - set(listed)


def test_djangos_commands_are_reachable_under_django(env) -> None:  # type: ignore[no-untyped-def]
    listed = tidings(env, "django", "help").stdout
    assert "sendtestemail" in listed and "startapp" in listed
    refused = tidings(env, "startapp", "x", check=False)
    assert refused.returncode != 0
    assert "tidings django" in refused.stderr


def test_an_unknown_command_is_refused_with_a_suggestion(env) -> None:  # type: ignore[no-untyped-def]
    refused = tidings(env, "craete-account", check=False)
    assert refused.returncode != 0
    assert "Did you mean 'create-account'?" in refused.stderr


def test_help_for_one_command_shows_its_own_options(env) -> None:  # type: ignore[no-untyped-def]
    shown = tidings(env, "help", "create-account").stdout
    assert shown.startswith("usage: tidings create-account")
    assert shown == tidings(env, "create-account", "--help").stdout
    assert "--sender-address" in shown
    for generic in ("--verbosity", "--settings", "--pythonpath", "--traceback", "--no-color"):
        assert generic not in shown


def test_it_prints_its_version(env) -> None:  # type: ignore[no-untyped-def]
    assert tidings(env, "--version").stdout.strip() == f"tidings {version('tidings')}"


def test_publishing_to_a_topic_nobody_follows_warns(env, tmp_path) -> None:  # type: ignore[no-untyped-def]
    tidings(env, "migrate", "--verbosity", "0")
    tidings(env, "create-account", "--code", "CITY", "--name", "City",
            "--sender-address", "news@tidings.localhost")  # fmt: skip
    tidings(env, "create-topic", "--account", "CITY", "--name", "Roads", "--code", "CITY_1")
    body = tmp_path / "closure.md"
    body.write_text("Main Street closed\n\nUntil Friday.\n")
    done = tidings(env, "publish", str(body), "--account", "CITY", "--topic", "CITY_1")
    assert "Published bulletin" in done.stdout
    assert "nobody gets this bulletin: CITY_1 has no confirmed subscriber" in done.stderr


def test_ctrl_c_while_following_a_send_leaves_it_running(env, tmp_path) -> None:  # type: ignore[no-untyped-def]
    tidings(env, "migrate", "--verbosity", "0")
    tidings(env, "create-account", "--code", "CITY", "--name", "City",
            "--sender-address", "news@tidings.localhost")  # fmt: skip
    tidings(env, "create-topic", "--account", "CITY", "--name", "Roads", "--code", "CITY_1")
    tidings(env, "add-subscriber", "--account", "CITY", "--topic", "CITY_1", "a@example.org")
    body = tmp_path / "closure.md"
    body.write_text("Main Street closed\n\nUntil Friday.\n")
    drafted = tidings(env, "publish", str(body), "--account", "CITY", "--topic", "CITY_1",
                      "--draft", "--json").stdout  # fmt: skip
    bulletin = re.search(r'"bulletin": (\d+)', drafted).group(1)  # type: ignore[union-attr]
    # No worker runs: the send never finishes, so only Ctrl-C ends the following.
    follower = subprocess.Popen(
        [sys.executable, "-m", "tidings", "send", bulletin],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if '"state": "sending"' in tidings(env, "status", "--json").stdout:
                break
            time.sleep(0.2)
        time.sleep(3)  # past the publishing, into the following
        follower.send_signal(signal.SIGINT)
        _, err = follower.communicate(timeout=30)
    finally:
        follower.kill()
    assert follower.returncode == 130
    assert "Traceback" not in err
    assert "it carries on: the workers keep sending" in err
    assert '"state": "sending"' in tidings(env, "status", "--json").stdout


@pytest.mark.parametrize("which", ["--http", "--smtp"])
def test_serve_stops_at_once_when_a_port_is_taken(env, which) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        http = f"127.0.0.1:{port}" if which == "--http" else f"127.0.0.1:{env['HTTP_PORT']}"
        smtp = f"127.0.0.1:{port}" if which == "--smtp" else env["TIDINGS_SMTP_LISTEN"]
        started = time.monotonic()
        refused = tidings(env, "serve", "--http", http, "--smtp", smtp, "--no-migrate",
                          check=False)  # fmt: skip
    assert refused.returncode != 0
    assert time.monotonic() - started < 20
    assert f"127.0.0.1:{port} is taken" in refused.stderr
    assert which in refused.stderr
