"""The list's public page, and the truth about posting on the join page."""

from __future__ import annotations

from django.urls import reverse

from tidings.lists.models import MailingList


def test_the_list_page_says_who_may_post_who_runs_it_and_links_archive_and_join(
    client, wanabidii
) -> None:  # type: ignore[no-untyped-def]
    page = client.get(reverse("lists:about", args=[wanabidii.name])).content.decode()
    assert "only its publishers post" in page  # wanabidii is announce-only
    assert f"mailto:{wanabidii.name}-owner@{wanabidii.domain}" in page
    assert reverse("archive:index", args=[wanabidii.name]) in page
    assert reverse("lists:join", args=[wanabidii.name]) in page


def test_the_join_page_tells_the_truth_about_posting(client, wanabidii) -> None:  # type: ignore[no-untyped-def]
    join = reverse("lists:join", args=[wanabidii.name])
    assert "only its publishers post" in client.get(join).content.decode()
    MailingList.objects.filter(pk=wanabidii.pk).update(posting_policy=MailingList.OPEN_POSTING)
    assert "Anyone may write to the list" in client.get(join).content.decode()


def test_the_home_page_and_the_archive_link_to_the_list_page(client, wanabidii) -> None:  # type: ignore[no-untyped-def]
    about = reverse("lists:about", args=[wanabidii.name])
    assert about in client.get("/").content.decode()
    assert about in client.get(reverse("archive:index", args=[wanabidii.name])).content.decode()


def test_a_list_without_an_archive_says_so(client, wanabidii) -> None:  # type: ignore[no-untyped-def]
    wanabidii.archive_visibility = MailingList.ARCHIVE_OFF
    wanabidii.save()
    page = client.get(reverse("lists:about", args=[wanabidii.name])).content.decode()
    assert "keeps no archive" in page
    assert client.get(reverse("lists:about", args=["nosuchlist"])).status_code == 404
