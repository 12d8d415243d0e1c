"""Archives import truthfully (real message boundaries, repaired parts reported, big ones
refused) and big posts stay cheap (a bounded page, rendered once)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tests.archive.test_archive_threads import mail
from tidings.archive.actions import archive_post
from tidings.archive.importer import import_mbox
from tidings.archive.models import Post
from tidings.lists.actions import create_list

pytestmark = pytest.mark.django_db

FIRST = b"""From alice@example.org Tue Dec  1 12:00:00 2015
From: Alice <alice@example.org>
Subject: Talks
Message-ID: <one@example.org>
Date: Tue, 01 Dec 2015 12:00:00 -0500

Hello.

From my point of view the talks went well.

From bob@example.org Tue Dec  1 12:30:00 2015
as Bob wrote at lunch, nothing else changed.
>From the minutes: agreed.
>>From the minutes of the minutes.

"""
SECOND = b"""From bob@example.org Tue Dec  1 13:00:00 2015
From: Bob <bob@example.org>
Subject: Re: Talks
Message-ID: <two@example.org>
In-Reply-To: <one@example.org>
Date: Tue, 01 Dec 2015 13:00:00 -0500

Agreed.
"""


def write(tmp_path: Path, *parts: bytes) -> Path:
    path = tmp_path / "archive.mbox"
    path.write_bytes(b"".join(parts))
    return path


def test_a_from_line_inside_a_body_does_not_split_the_message(tmp_path: Path) -> None:
    mailing_list = create_list("talks")
    result = import_mbox(mailing_list, write(tmp_path, FIRST, SECOND))
    assert (result.messages, result.imported, result.failed) == (2, 2, [])
    first = Post.objects.get(message_id="<one@example.org>")
    assert "From my point of view the talks went well." in first.body_text
    assert "From bob@example.org Tue Dec  1 12:30:00 2015\nas Bob wrote" in first.body_text
    # mboxrd: one level of ">" comes off an escaped From line.
    assert "\nFrom the minutes: agreed.\n>From the minutes of the minutes." in first.body_text
    assert not Post.objects.filter(subject="").exists()  # no header-less junk post


def test_a_part_without_its_boundary_keeps_its_text_and_is_reported(tmp_path: Path) -> None:
    broken = b"""From carol@example.org Wed Dec  2 09:00:00 2015
From: Carol <carol@example.org>
Subject: Minutes
Message-ID: <three@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="never-used"

The minutes of the meeting are below.
Item one: water rationing.
"""
    mailing_list = create_list("minutes")
    result = import_mbox(mailing_list, write(tmp_path, broken))
    assert result.imported == 1 and result.failed == []
    assert len(result.repaired) == 1 and "kept as text" in result.repaired[0]
    assert "Item one: water rationing." in Post.objects.get().body_text


def test_it_refuses_a_message_over_the_limit_and_says_so(tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    settings.ARCHIVE_IMPORT_MAX_MESSAGE_BYTES = 4096
    huge = SECOND.replace(b"two@", b"huge@").replace(b"Agreed.\n", b"x" * 100 + b"\n") * 1
    huge = huge + (b"y" * 99 + b"\n") * 100 + b"\n"
    path = write(tmp_path, b"junk before any message\n\n", FIRST, huge, SECOND)
    create_list("limits")
    out, err = io.StringIO(), io.StringIO()
    call_command("import_mbox", str(path), "--list", "limits", "--json", stdout=out, stderr=err)
    data = json.loads(out.getvalue())
    assert (data["messages"], data["imported"]) == (3, 2)
    assert len(data["failed"]) == 2  # the oversized message, and the text before the first
    assert any("MiB, over the" in f and "huge@" not in f for f in data["failed"])
    assert any("text before the first message" in f for f in data["failed"])
    assert "not imported:" in err.getvalue()
    text = io.StringIO()
    call_command("import_mbox", str(path), "--list", "limits", stdout=text, stderr=io.StringIO())
    assert "2 not imported" in text.getvalue()  # never "0 failed" when something was dropped


def test_a_new_list_holds_posts_over_five_mebibytes() -> None:
    assert create_list("sized").max_message_size == 5 * 2**20


def test_a_huge_posts_page_shows_its_start_and_links_the_whole(
    client: Client,
    wanabidii,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    settings.ARCHIVE_MAX_SHOWN_CHARS = 2000
    body = "".join(f"Line {n} of a very long report.\n" for n in range(5000))
    post = archive_post(wanabidii, mail(1, "Report", "Tue, 01 Dec 2015 12:00:00 -0500", body=body))
    assert post.truncated and len(post.body_text) == 2000
    page = client.get(reverse("archive:post", args=[wanabidii.name, post.slug]))
    html = page.content.decode()
    assert "too large to show in full" in html
    assert len(html) < 50_000
    whole = client.get(reverse("archive:post_mbox", args=[wanabidii.name, post.slug]))
    assert b"Line 4999 of a very long report." in b"".join(whole.streaming_content)


def test_a_posts_body_is_rendered_once_when_archived(client: Client, wanabidii) -> None:  # type: ignore[no-untyped-def]
    post = archive_post(wanabidii, mail(1, "Hello", "Tue, 01 Dec 2015 12:00:00 -0500"))
    assert post.rendered
    Post.objects.filter(pk=post.pk).update(rendered="<p>stored rendering</p>")
    page = client.get(reverse("archive:post", args=[wanabidii.name, post.slug]))
    assert "stored rendering" in page.content.decode()
