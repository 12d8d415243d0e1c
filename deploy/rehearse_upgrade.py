"""Rehearse an upgrade, in the order docs/DEPLOY.md gives, on a scratch PostgreSQL database.

The previous release (a commit, exported with `git archive`) runs its SMTP server, two workers
and its web server, and sends a bulletin. Half-way through, this checkout migrates the database
while all of them keep running; for a few seconds the old processes must go on working against
the new schema (sending, receiving and archiving a list post, answering the web and the API).
Then the parts are restarted on the new code: the workers, then the SMTP server, then the web.
At the end every recipient must have the bulletin exactly once and both list posts be archived.

    .venv/bin/python deploy/rehearse_upgrade.py --from COMMIT [--recipients 20000]

It prints what happened at each step and exits 1 if any check failed. Nothing outside its scratch
database and a temporary folder is touched.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
LIST_ADDRESS = "rehearsal@lists.tidings.localhost"
failures: list[str] = []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def check(ok: bool, what: str) -> None:
    say(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


class Release:
    """One version of Tidings: its source tree, run with this checkout's virtualenv."""

    def __init__(self, name: str, tree: Path, env: dict[str, str], logs: Path) -> None:
        self.name, self.tree, self.logs = name, tree, logs
        self.env = {**env, "PYTHONPATH": str(tree)}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-c", "from tidings.cli import main; main()", *args]

    def run(self, *args: str, stdin: bytes = b"") -> str:
        done = subprocess.run(
            self.command(*args), env=self.env, cwd=self.logs, input=stdin, capture_output=True
        )
        if done.returncode:
            raise SystemExit(
                f"{self.name}: tidings {' '.join(args)} failed:\n{done.stderr.decode()}"
            )
        return done.stdout.decode()

    def start(self, name: str, *args: str) -> None:
        log = (self.logs / f"{self.name}-{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            self.command(*args), env=self.env, cwd=self.logs, stdout=log, stderr=log
        )

    def stop(self, name: str) -> None:
        process = self.processes.pop(name)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            check(False, f"{self.name} {name} stopped within 30 s of SIGTERM")

    def alive(self) -> bool:
        return all(p.poll() is None for p in self.processes.values())


class Database:
    def __init__(self, url: str) -> None:
        self.url = url

    def value(self, sql: str, *params: object) -> int:
        with psycopg.connect(self.url, autocommit=True) as db:
            row = db.execute(sql, params).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def sent(self) -> int:
        return self.value(
            "SELECT count(*) FROM delivery_delivery d JOIN delivery_send s ON s.id = d.send_id"
            " WHERE d.state = 'sent' AND s.kind = 'bulletin'"
        )

    def posts(self) -> int:
        return self.value("SELECT count(*) FROM archive_post")

    def copies(self) -> tuple[int, int]:
        """Recipients in the captured outbox, and the copies beyond one per recipient."""
        with psycopg.connect(self.url, autocommit=True) as db:
            rows = db.execute(
                "SELECT r, count(*) FROM inbound_inboundmessage,"
                " jsonb_array_elements_text(captured_rcpts::jsonb) AS r"
                " WHERE captured AND r LIKE 'reader%%' GROUP BY r"
            ).fetchall()
        return len(rows), sum(n - 1 for _, n in rows)


def export(commit: str, into: Path) -> Path:
    into.mkdir()
    tree = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(into)], input=tree.stdout, check=True)
    return into


def scratch_database(url: str) -> None:
    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{name}"')


def post_to_list(smtp_port: int, subject: str) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "member@example.org", LIST_ADDRESS, subject
    message["Message-ID"] = f"<{subject.replace(' ', '-')}@example.org>"
    message.set_content(f"{subject}: a post while the upgrade runs.")
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as smtp:
        smtp.send_message(message)


def http_ok(url: str, token: str = "") -> bool:
    request = urllib.request.Request(
        url, headers={"Authorization": f"Bearer {token}"} if token else {}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--from", dest="previous", required=True, help="the release running now (a commit)"
    )
    parser.add_argument(
        "--to",
        dest="upgrade",
        default="",
        help="the release to upgrade to (default: this checkout)",
    )
    parser.add_argument("--recipients", type=int, default=20000)
    parser.add_argument(
        "--database-url", default="postgres://root@127.0.0.1:5432/tidings_rehearsal"
    )
    options = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="tidings-rehearsal-"))
    old_tree = export(options.previous, work / "previous")
    new_tree = export(options.upgrade, work / "new") if options.upgrade else ROOT
    scratch_database(options.database_url)
    smtp_port, web_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": options.database_url,
        "TIDINGS_DATA_DIR": str(work / "data"),
        "TIDINGS_SMTP_LISTEN": f"127.0.0.1:{smtp_port}",
        "TIDINGS_SMSC_LISTEN": f"127.0.0.1:{free_port()}",
        "TIDINGS_BASE_URL": f"http://127.0.0.1:{web_port}",
    }
    old = Release("previous", old_tree, env, work)
    new = Release("new", new_tree, env, work)
    db = Database(options.database_url)
    say(
        f"previous release {options.previous}, new release {options.upgrade or ROOT}; logs in {work}"
    )

    old.run("migrate")
    old.run(
        "create-account",
        "--code",
        "REH",
        "--name",
        "Rehearsal",
        "--sender-address",
        "news@tidings.localhost",
    )
    old.run("create-topic", "--account", "REH", "--name", "News", "--code", "REH_1")
    readers = "".join(f"reader{i}@example.org\n" for i in range(options.recipients)).encode()
    (work / "readers.csv").write_bytes(b"email\n" + readers)
    old.run(
        "import-subscribers",
        str(work / "readers.csv"),
        "--account",
        "REH",
        "--topic",
        "REH_1",
        "--confirmed",
        "--no-progress",
    )
    old.run("create-list", "rehearsal", "--account", "REH", "--posting", "open")
    old.run("add-member", "rehearsal", "member@example.org")
    token = old.run("create-api-token", "--account", "REH", "--name", "rehearsal").split()[-1]
    old.start("smtpd", "smtpd")
    old.start("worker-1", "worker")
    old.start("worker-2", "worker")
    old.start("web", "web", "--listen", f"127.0.0.1:{web_port}")
    wait_for(lambda: http_ok(f"http://127.0.0.1:{web_port}/"), 30)
    (work / "bulletin.md").write_text("Rehearsal\n\nA bulletin sent across an upgrade.\n")
    old.run("publish", str(work / "bulletin.md"), "--account", "REH", "--topic", "REH_1")
    check(
        wait_for(lambda: db.sent() >= options.recipients // 10, 120),
        "the previous release is sending",
    )

    started = time.monotonic()
    say(f"migrating with the new release while the previous one runs ({db.sent()} sent)")
    say(new.run("migrate").strip().replace("\n", "; ")[:400])
    say(f"migrated in {time.monotonic() - started:.1f} s")
    at_migration = db.sent()
    post_to_list(smtp_port, "Before restart")
    check(
        wait_for(lambda: db.sent() > at_migration, 10) or db.sent() == options.recipients,
        "the previous workers keep sending on the new schema",
    )
    check(
        wait_for(lambda: db.posts() >= 1, 20),
        "the previous release receives and archives a list post",
    )
    check(http_ok(f"http://127.0.0.1:{web_port}/"), "the previous web server answers")
    check(
        http_ok(f"http://127.0.0.1:{web_port}/api/v1/topics", token),
        "the previous API answers (its rate limit)",
    )
    check(old.alive(), "no previous process died")

    say("restarting the workers on the new release")
    for name in ("worker-1", "worker-2"):
        old.stop(name)
        new.start(name, "worker")
    say("restarting the SMTP server, then the web server")
    old.stop("smtpd")
    new.start("smtpd", "smtpd")
    old.stop("web")
    new.start("web", "web", "--listen", f"127.0.0.1:{web_port}")
    check(
        wait_for(lambda: http_ok(f"http://127.0.0.1:{web_port}/"), 30), "the new web server answers"
    )
    check(http_ok(f"http://127.0.0.1:{web_port}/api/v1/topics", token), "the new API answers")
    post_to_list(smtp_port, "After restart")
    check(wait_for(lambda: db.posts() >= 2, 30), "the new release archives a list post")
    check(
        wait_for(lambda: db.sent() == options.recipients, 300),
        f"all {options.recipients} deliveries sent",
    )
    check(
        wait_for(lambda: db.copies()[0] == options.recipients, 60),
        "every reader's copy reached the outbox",
    )
    readers_reached, extra = db.copies()
    check(extra == 0, f"no reader got the bulletin twice ({extra} extra copies)")
    check(new.alive(), "no new process died")
    for name in list(new.processes):
        new.stop(name)
    print(
        json.dumps(
            {
                "previous": options.previous,
                "recipients": options.recipients,
                "readers_reached": readers_reached,
                "extra_copies": extra,
                "failures": failures,
            }
        )
    )
    raise SystemExit(1 if failures else 0)


if __name__ == "__main__":
    main()
