"""Backups restore everything: every public URL of an installation answers the same after
`tidings backup` and `tidings restore` into a fresh data dir, and a send in progress resumes.

The live installation holds media (a logo, an image in a bulletin already sent), a list post
with an attachment, a comment, a queued import, DKIM keys, the data dir's secrets (subscribers'
signed links) and a send stopped halfway. Its public pages are collected by following links
from the home page and the addresses mail carries; each is fetched before the backup and after
the restore (Django's test client in each installation's own process): same status, same bytes.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.ops.test_processes import operator_env, tidings
from tests.paths import ROOT
from tests.smtp_helpers import sink_server
from tidings.ops.backup import FOLDERS, SECRETS, BackupError, backup

# Run in an installation's own process (python -c): SEED makes the live one's data, PAGES
# fetches its public URLs (collected by following links when none are given on stdin).
SETUP = """
import json, re, struct, sys, zlib
import django
django.setup()
"""

SEED = (
    SETUP
    + r"""
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
call_command("migrate", verbosity=0)
from tidings.accounts import media
from tidings.accounts.actions import create_account, update_account
from tidings.archive.actions import add_comment
from tidings.archive.importer import import_mbox
from tidings.archive.models import Post
from tidings.bulletins.actions import create_bulletin, send_bulletin
from tidings.lists.actions import create_list
from tidings.subscribers.actions import subscribe
from tidings.topics.actions import create_topic
from pathlib import Path

def png(width, height):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    rows = b"".join(b"\0" + b"\x80\x20\x40" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))

account = create_account(code="CITY", name="City of Springfield",
                         sender_address="news@tidings.localhost")
logo = media.store(account, SimpleUploadedFile("seal.png", png(3, 2)))
update_account(account, logo=logo)
photo = media.store(account, SimpleUploadedFile("bridge.png", png(5, 4)))
topic = create_topic(account, name="Roads", code="CITY_1")
for n in range(60):
    subscribe(account, f"reader{n}@example.org", [topic], confirmed=True)
bulletin = create_bulletin(
    account, subject="Main Street closed", topics=[topic],
    body=f"Until Friday.\n\n![The bridge]({media.media_url(photo)})\n",
)
send_bulletin(bulletin)

roads = create_list("roads", account=account)
mbox = Path(sys.argv[1])
mbox.write_bytes(
    b"From mayor@example.org Mon Dec  7 10:00:00 2026\n"
    b"From: Mayor <mayor@example.org>\nTo: roads@lists.tidings.localhost\n"
    b"Subject: The detour map\nMessage-ID: <detour@example.org>\n"
    b"Date: Mon, 07 Dec 2026 10:00:00 +0000\nMIME-Version: 1.0\n"
    b'Content-Type: multipart/mixed; boundary="b"\n\n'
    b"--b\nContent-Type: text/plain\n\nThe detour goes by the river.\n"
    b'--b\nContent-Type: text/csv\nContent-Disposition: attachment; filename="detour.csv"\n\n'
    b"street,closed\nMain,yes\n--b--\n\n"
)
import_mbox(roads, mbox)
post = Post.objects.get()
add_comment(post, name="Lisa", email="lisa@example.org", body="Thank you.")

# A console import no worker has taken yet: its upload waits in the data dir.
from io import BytesIO
from tidings.subscribers.import_jobs import queue_import
csv = b"email\nmarge@example.org\nhomer@example.org\n"
queue_import(account, None, BytesIO(csv), "more.csv", len(csv), [topic], confirmed=True)
"""
)

PAGES = (
    SETUP
    + r"""
import hashlib
from django.test import Client
from django.conf import settings
from django.urls import reverse

STAFF = ("/console/", "/admin/", "/api/", "/language/", "/t/", "/static/", "/texts/hooks/")
CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"')
LINK = re.compile(r'(?:href|src)="([^"#]*)')
client = Client(SERVER_NAME="127.0.0.1", SERVER_PORT=settings.BASE_URL.rsplit(":", 1)[1])
given = json.load(sys.stdin)
if not given:
    from tidings.accounts.models import MediaFile
    from tidings.archive.models import Attachment
    from tidings.bulletins.models import Bulletin
    from tidings.subscribers.links import subscriber_links
    from tidings.subscribers.models import Subscriber
    base = settings.BASE_URL
    # What mail already sent carries: images, web copies, a reader's own signed links.
    seeds = ["/"] + [f"/media/{m.filename}" for m in MediaFile.objects.all()]
    seeds += [f"/bulletins/{b.pk}/" for b in Bulletin.objects.all()]
    reader = Subscriber.objects.order_by("pk").first()
    links = subscriber_links(reader.pk)  # (one-click is a POST)
    seeds += [links[k].removeprefix(base) for k in ("manage_url", "unsubscribe_url")]
    seeds += [reverse("archive:attachment", args=[a.post.mailing_list.name, a.post.slug,
                                                  a.position])
              for a in Attachment.objects.select_related("post__mailing_list")]
else:
    seeds = given
pages, queue = {}, list(seeds)
while queue and len(pages) < 300:
    url = queue.pop(0)
    if url in pages:
        continue
    response = client.get(url)
    body = b"".join(response) if response.streaming else response.content
    pages[url] = [response.status_code, hashlib.sha256(CSRF.sub(b"", body)).hexdigest(),
                  response.get("Content-Type", "")]
    if not given and response.get("Content-Type", "").startswith("text/html"):
        for found in LINK.findall(body.decode()):
            found = found.replace("&amp;", "&")
            if found.startswith(settings.BASE_URL):
                found = found.removeprefix(settings.BASE_URL)
            if found.startswith("/") and not found.startswith(("//", *STAFF)):
                queue.append(found)
print(json.dumps(pages))
"""
)


def python(env: dict[str, str], script: str, *args: str, given: object = None) -> str:
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        env=env | {"DJANGO_SETTINGS_MODULE": "tidings.settings"},
        cwd=ROOT, input=json.dumps(given), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def run(env: dict[str, str], *args: str) -> str:
    done = tidings(env, *args, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()} if folder.is_dir() else {}


def deliveries(data: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(data / "tidings.sqlite3") as db:
        return db.execute(
            "SELECT id, send_id, address, state, attempts FROM delivery_delivery ORDER BY id"
        ).fetchall()


def test_a_restored_installation_answers_every_public_url_as_the_first_did(tmp_path: Path) -> None:
    live = operator_env(tmp_path / "live")
    keys = tmp_path / "live" / "dkim"
    keys.mkdir(parents=True)
    subprocess.run(["openssl", "genrsa", "-out", str(keys / "tidings.localhost.pem"), "1024"],
                   check=True, capture_output=True)  # fmt: skip
    live |= {"TIDINGS_DKIM_KEY_DIR": str(keys), "TIDINGS_DELIVERY_CHUNK_SIZE": "5"}
    python(live, SEED, str(tmp_path / "roads.mbox"))

    # Stop the send halfway: a worker sends to a slow relay and is stopped meanwhile.
    with sink_server() as sink:
        assert sink.relay is not None
        sink.delay = 0.2  # chunks of 5: 2.4 s at least for the 60, stopped after the first
        relay = {"TIDINGS_SMTP_RELAY": f"smtp://127.0.0.1:{sink.relay.port}"}
        command = [sys.executable, "-m", "tidings", "worker", "--role", "send"]
        worker = subprocess.Popen(command, env=live | relay, cwd=ROOT, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while len(sink.received) < 5:
                assert time.monotonic() < deadline, "the send never started"
                time.sleep(0.02)
        finally:
            worker.terminate()
            worker.wait(30)
        sent_before = set(sink.recipients())
    assert 0 < len(sent_before) < 60  # a send in progress

    pages = json.loads(python(live, PAGES, given=[]))
    kinds = {p.split("/")[1] for p in pages}
    assert {"media", "bulletins", "subscriptions", "lists"} <= kinds, sorted(pages)
    assert any("/attachments/" in p for p in pages) and any(p.endswith("/mbox/") for p in pages)
    assert any(p.endswith("/feed/") for p in pages)
    assert all(status == 200 for status, _, _ in pages.values()), {
        p: s for p, (s, _, _) in pages.items() if s != 200
    }
    ledger = deliveries(tmp_path / "live" / "data")
    run(live, "backup", str(tmp_path / "backup"))

    restored = operator_env(tmp_path / "restored")
    restored |= {"TIDINGS_BASE_URL": live["TIDINGS_BASE_URL"],
                 "TIDINGS_DKIM_KEY_DIR": str(tmp_path / "restored" / "dkim")}  # fmt: skip
    run(restored, "restore", str(tmp_path / "backup"))
    run(restored, "migrate", "--verbosity", "0")
    again = json.loads(python(restored, PAGES, given=list(pages)))
    changed = {p: (pages[p], again[p]) for p in pages if again[p] != pages[p]}
    assert changed == {}
    assert (tmp_path / "restored" / "dkim" / "tidings.localhost.pem").read_bytes() == (
        keys / "tidings.localhost.pem"
    ).read_bytes()
    queued = files(tmp_path / "live" / "data" / "imports")
    assert queued and files(tmp_path / "restored" / "data" / "imports") == queued

    # The send resumes where it stopped: every row as it was, then each reader once.
    assert deliveries(tmp_path / "restored" / "data") == ledger
    with sink_server() as sink:
        assert sink.relay is not None
        relay = {"TIDINGS_SMTP_RELAY": f"smtp://127.0.0.1:{sink.relay.port}"}
        run(restored | relay, "worker", "--role", "send", "--once")
        resumed = sink.recipients()
    waiting = {address for _, _, address, state, _ in ledger if state != "sent"}
    assert sorted(resumed) == sorted(waiting)
    assert sent_before | set(resumed) == {f"reader{n}@example.org" for n in range(60)}


@pytest.mark.django_db
def test_the_postgresql_advice_names_every_file_a_backup_needs(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.DATABASES = {"default": settings.DATABASES["default"] | {"ENGINE": "x.postgresql"}}
    with pytest.raises(BackupError) as refused:
        backup(tmp_path / "backup")
    deploy = (ROOT / "docs" / "DEPLOY.md").read_text()
    postgresql = deploy[deploy.index("- PostgreSQL: the database first") :]
    for name in (*SECRETS, *FOLDERS):
        assert name in str(refused.value)
        assert name in postgresql
    assert "dkim" in postgresql.lower() and "DKIM" in str(refused.value)
