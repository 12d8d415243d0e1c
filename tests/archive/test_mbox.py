"""mbox: export per month and per thread; `tidings import-mbox` of every corpus archive."""

from __future__ import annotations

import csv
import io
import json
import mailbox
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tests.archive.test_archive_threads import mail
from tidings.archive.actions import archive_post, post_slug, raw_bytes
from tidings.archive.importer import import_mbox
from tidings.archive.mbox import Entry, split
from tidings.archive.models import Month, Post
from tidings.lib.mailtext import bare_message_id, header
from tidings.lists.actions import create_list
from tidings.lists.models import MailingList

CORPUS = Path("/work/shared/corpus/mbox")
INDEX = {row["file"]: row for row in csv.DictReader((CORPUS / "mbox_index.csv").open())}


def download(client: Client, url: str, tmp_path: Path) -> mailbox.mbox:
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    path = tmp_path / "export.mbox"
    path.write_bytes(b"".join(response.streaming_content))
    return mailbox.mbox(str(path), create=False)


def expected_slugs(path: Path) -> set[str]:
    """Return the permalinks the file's messages should get: one per distinct message."""
    slugs = set()
    with path.open("rb") as stream:
        entries = [e for e in split(stream, 2**30) if e.number]
    for entry in entries:
        msg = message_from_bytes(entry.raw, policy=default)
        bare = bare_message_id(header(msg, "Message-ID"))
        slugs.add(post_slug(bare, b"" if bare else raw_bytes(msg, None)))  # type: ignore[arg-type]
    return slugs


def test_it_exports_a_month_as_mbox(client: Client, wanabidii: MailingList, tmp_path: Path) -> None:
    archive_post(wanabidii, mail(1, "From the start", "Tue, 01 Dec 2015 12:00:00 -0500"))
    archive_post(wanabidii, mail(2, "Second", "Wed, 02 Dec 2015 12:00:00 -0500", body="From here"))
    archive_post(wanabidii, mail(3, "Other month", "Thu, 05 Nov 2015 12:00:00 -0500"))
    box = download(client, reverse("archive:month_mbox", args=["wanabidii", 2015, 12]), tmp_path)
    assert [m["Subject"] for m in box] == ["From the start", "Second"]
    assert box[1].get_payload().startswith(">From here")  # mboxrd escaping


def test_it_exports_a_thread_as_mbox(
    client: Client, wanabidii: MailingList, tmp_path: Path
) -> None:
    first = archive_post(wanabidii, mail(1, "Topic"))
    archive_post(wanabidii, mail(2, "Re: Topic", in_reply_to="<m1@example.org>"))
    archive_post(wanabidii, mail(3, "Unrelated"))
    box = download(client, reverse("archive:thread_mbox", args=["wanabidii", first.slug]), tmp_path)
    assert [m["Message-ID"] for m in box] == ["<m1@example.org>", "<m2@example.org>"]


def test_it_hides_addresses_in_an_anonymous_export(
    client: Client, wanabidii: MailingList, tmp_path: Path
) -> None:
    first = archive_post(wanabidii, mail(1, body="Mail jambo.bwana@example.org"))
    box = download(client, reverse("archive:thread_mbox", args=["wanabidii", first.slug]), tmp_path)
    text = box.get_bytes(0)
    assert b"jambo.bwana@example.org" not in text and b"jam...@example.org" in text
    assert b"p1@example.org" not in text


def test_it_reads_the_date_of_an_mbox_from_line() -> None:
    line = b"From goran at domain.com  Wed Dec  1 08:26:40 2010\n"
    assert Entry(1, line, b"", 0).sent == datetime(2010, 12, 1, 8, 26, 40, tzinfo=UTC)


@pytest.mark.parametrize("name", sorted(INDEX))
def test_it_imports_every_corpus_archive_without_loss(db: None, name: str) -> None:
    path = CORPUS / name
    mailing_list = create_list("imported")
    result = import_mbox(mailing_list, path)
    assert result.messages == int(INDEX[name]["messages"])
    assert result.failed == []
    slugs = set(Post.objects.filter(mailing_list=mailing_list).values_list("slug", flat=True))
    assert slugs == expected_slugs(path)
    assert result.imported == len(slugs)
    assert result.duplicates == result.messages - len(slugs)
    assert sum(
        Month.objects.filter(mailing_list=mailing_list).values_list("count", flat=True)
    ) == len(slugs)


def test_it_keeps_dates_and_threads_of_an_imported_month(db: None) -> None:
    mailing_list = create_list("httpd")
    import_mbox(mailing_list, CORPUS / "apache_ponymail/httpd-users-2020-07.mbox")
    dates = Post.objects.filter(mailing_list=mailing_list).values_list("date", flat=True)
    assert min(dates) >= datetime(2020, 6, 30, tzinfo=UTC)
    assert max(dates) < datetime(2020, 8, 2, tzinfo=UTC)
    threads = Post.objects.filter(mailing_list=mailing_list).values("thread").distinct().count()
    assert threads < 108 / 2  # a month of a help list is mostly replies
    reply = Post.objects.filter(mailing_list=mailing_list).exclude(in_reply_to="").first()
    assert reply is not None
    parent = Post.objects.filter(mailing_list=mailing_list, message_id=reply.in_reply_to).first()
    assert parent is None or parent.thread_id == reply.thread_id
    assert Post.objects.filter(mailing_list=mailing_list, attachments__isnull=False).exists()


def test_it_skips_duplicates_across_two_imports(db: None) -> None:
    mailing_list = create_list("maven")
    first = import_mbox(
        mailing_list, CORPUS / "apache_ponymail/maven_duplicates_2017_listsao_1.mbox"
    )
    second = import_mbox(
        mailing_list, CORPUS / "apache_ponymail/maven_duplicates_2017_listsao_2.mbox"
    )
    assert first.imported == 10
    assert second.imported == 0 and second.duplicates == 10


def test_it_falls_back_to_the_from_line_for_a_missing_date(db: None) -> None:
    mailing_list = create_list("nodate")
    import_mbox(mailing_list, CORPUS / "perceval/mbox_no_fields.mbox")
    dated = Post.objects.filter(mailing_list=mailing_list).order_by("date").first()
    assert dated is not None and dated.date.year == 2010


def test_it_imports_from_the_command_line(wanabidii: MailingList) -> None:
    out = io.StringIO()
    path = CORPUS / "perceval/pipermail_2015_november.mbox"
    call_command("import_mbox", str(path), "--list", "wanabidii", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert (data["messages"], data["imported"], data["duplicates"]) == (4, 4, 0)
    assert wanabidii.posts.count() == 4
