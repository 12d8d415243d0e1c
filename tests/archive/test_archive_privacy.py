"""A members-only archive: no page, feed, search or export shows it to anyone else."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from tests.archive.test_archive_threads import mail
from tidings.accounts.models import Account
from tidings.archive.actions import archive_post
from tidings.archive.importer import import_mbox
from tidings.archive.models import Post
from tidings.lists.actions import add_member, create_list
from tidings.lists.models import MailingList

CORPUS = Path("/work/shared/corpus/mbox")


@pytest.fixture
def private(account: Account) -> MailingList:
    mailing_list = create_list("board", account=account)
    # update(): save() may derive archive_public from the list's visibility setting.
    MailingList.objects.filter(pk=mailing_list.pk).update(archive_public=False)
    mailing_list.refresh_from_db()
    return mailing_list


@pytest.fixture
def secret(private: MailingList) -> Post:
    return archive_post(private, mail(1, "Secret budget", date="Tue, 01 Dec 2015 12:00:00 -0500"))


def every_url(post: Post) -> list[str]:
    name, slug = post.mailing_list.name, post.slug
    return [
        reverse("archive:index", args=[name]),
        reverse("archive:month", args=[name, 2015, 12]),
        reverse("archive:month_mbox", args=[name, 2015, 12]),
        reverse("archive:post", args=[name, slug]),
        reverse("archive:thread", args=[name, slug]),
        reverse("archive:thread_mbox", args=[name, slug]),
        reverse("archive:feed", args=[name]),
        reverse("archive:comments_feed", args=[name, slug]),
        reverse("archive:search", args=[name]) + "?q=secret",
    ]


def test_it_shows_no_page_of_a_private_archive_to_anonymous_readers(
    client: Client, secret: Post
) -> None:
    for url in every_url(secret):
        assert client.get(url).status_code == 404, url


def test_it_refuses_comments_on_a_private_archive(client: Client, secret: Post) -> None:
    url = reverse("archive:post", args=["board", secret.slug])
    data = {"name": "M", "email": "m@example.com", "body": "hi", "website": ""}
    assert client.post(url, data).status_code == 404
    assert not secret.comments.exists()


def test_it_shows_a_private_archive_to_staff(client: Client, secret: Post) -> None:
    client.force_login(User.objects.create_user("op", "op@example.org", "x", is_staff=True))
    for url in every_url(secret):
        assert client.get(url).status_code == 200, url


def test_it_shows_a_private_archive_to_a_member_who_logs_in(
    client: Client, private: MailingList, secret: Post
) -> None:
    add_member(private, "juma@example.org")
    client.force_login(User.objects.create_user("juma", "juma@example.org", "x"))
    assert client.get(reverse("archive:post", args=["board", secret.slug])).status_code == 200


def test_it_hides_a_private_archive_from_other_users(client: Client, secret: Post) -> None:
    client.force_login(User.objects.create_user("mallory", "mallory@example.com", "x"))
    assert client.get(reverse("archive:index", args=["board"])).status_code == 404


def test_it_leaves_private_lists_out_of_an_organization_wide_search(
    client: Client, wanabidii: MailingList, secret: Post
) -> None:
    archive_post(wanabidii, mail(2, "Public budget"))
    url = reverse("archive:search", args=["wanabidii"])
    html = client.get(url, {"q": "budget", "all": "1"}).content.decode()
    assert "1 result for" in html
    assert "Secret" not in html


def test_it_keeps_a_private_list_private_while_importing(
    client: Client, private: MailingList
) -> None:
    seen: list[int] = []

    def check(done: int, total: int) -> None:
        assert Post.objects.filter(mailing_list=private).exists()
        seen.append(client.get(reverse("archive:index", args=["board"])).status_code)
        post = Post.objects.filter(mailing_list=private).first()
        assert post is not None
        seen.append(client.get(reverse("archive:post", args=["board", post.slug])).status_code)

    path = CORPUS / "apache_ponymail/httpd-users-200606-part.mbox"
    import_mbox(private, path, progress=check, batch=5)
    private.refresh_from_db()
    assert seen and set(seen) == {404}
    assert private.archive_public is False
