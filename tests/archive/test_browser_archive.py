"""A reader in a real browser, without JavaScript: archive index → post → comment."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.archive.test_archive import press_release
from tests.browser import screenshot
from tidings.archive.actions import archive_post

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_lets_a_reader_comment_on_a_post(page, live_server, wanabidii):  # type: ignore[no-untyped-def]
    archive_post(wanabidii, press_release())
    page.goto(f"{live_server.url}/lists/wanabidii/")
    expect(page.get_by_role("heading", name="Tuesday, 1 December 2015")).to_be_visible()
    page.get_by_role("link", name="United States and Cuba Hold Migration Talks").first.click()
    page.get_by_label("Name").fill("Juma")
    page.get_by_label("Email").fill("juma@example.org")
    page.get_by_label("Comment").fill("Asante sana.")
    page.get_by_role("button", name="Publish").click()
    screenshot(page, "archive-post-with-comment.png")
    expect(page.get_by_text("Asante sana.")).to_be_visible()
    assert "juma@example.org" not in page.content()


def test_it_walks_the_archive_and_moderates_a_comment(page, live_server, wanabidii):  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import User

    from tests.archive.test_archive_threads import mail
    from tidings.lists.models import MailingList

    MailingList.objects.filter(pk=wanabidii.pk).update(comment_moderation=MailingList.HELD)
    archive_post(wanabidii, mail(1, "Water rationing", "Tue, 01 Dec 2015 12:00:00 -0500"))
    archive_post(
        wanabidii,
        mail(2, "Re: Water rationing", "Wed, 02 Dec 2015 09:00:00 -0500", "<m1@example.org>"),
    )
    from tidings.accounts.models import Membership

    carol = User.objects.create_user("carol", "carol@example.net", "moderator-pass")
    Membership.objects.create(user=carol, account=wanabidii.account, role=Membership.TOPIC_ADMIN)
    base = live_server.url
    page.set_default_timeout(5000)

    page.goto(f"{base}/lists/wanabidii/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.get_by_role("link", name="December").click()
    expect(page.get_by_role("heading", name="wanabidii: December 2015")).to_be_visible()
    page.get_by_role("link", name="Re: Water rationing").click()
    page.get_by_role("link", name="View the thread (2 messages)").click()
    expect(page.get_by_role("heading", name="Thread: Water rationing")).to_be_visible()
    screenshot(page, "archive-thread.png")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download this thread as mbox").click()
    assert download.value.suggested_filename.endswith(".mbox")
    assert b"Re: Water rationing" in Path(download.value.path()).read_bytes()

    page.get_by_role("link", name="Home").click()
    page.get_by_label("Search this archive").fill("rationing")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("2 results for")).to_be_visible()
    screenshot(page, "archive-search.png")

    page.get_by_role("link", name="Water rationing").first.click()
    page.get_by_label("Name").fill("Juma")
    page.get_by_label("Email").fill("juma@example.org")
    page.get_by_label("Comment").fill("When does it end?")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("your comment is held for review")).to_be_visible()
    assert page.get_by_text("When does it end?").count() == 0
    post_url = page.url.split("#")[0]

    code = wanabidii.account.code
    page.goto(f"{base}/console/login/?next=/console/{code}/lists/wanabidii/comments/")
    page.get_by_label("Username").fill("carol")
    page.get_by_label("Password").fill("moderator-pass")
    page.get_by_role("button", name="Log in").click()
    screenshot(page, "archive-moderation.png")
    page.get_by_role("button", name="Approve the comment by Juma").click()
    expect(page.get_by_text("Published the comment by Juma.")).to_be_visible()

    page.context.clear_cookies()
    page.goto(post_url)
    expect(page.get_by_text("When does it end?")).to_be_visible()
    assert "juma@example.org" not in page.content()


def test_it_walks_a_topics_archive_and_searches_the_account(page, live_server, account, topic):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from tests.archive.test_bulletin_web_copy import bulletin

    bulletin(account, topic, "Migration Talks", datetime(2015, 12, 1, 17, 38, tzinfo=UTC))
    bulletin(account, topic, "Climate Remarks", datetime(2015, 11, 20, 15, tzinfo=UTC))
    page.set_default_timeout(5000)
    page.goto(f"{live_server.url}/bulletins/USSTATEBPA/")
    page.get_by_role("link", name="Press Releases").click()
    expect(page.get_by_role("heading", name="Tuesday, 1 December 2015")).to_be_visible()
    page.get_by_role("link", name="November").click()
    expect(page.get_by_role("heading", name="Press Releases: November 2015")).to_be_visible()
    page.get_by_role("link", name="Climate Remarks").click()
    expect(page.get_by_role("heading", name="Climate Remarks")).to_be_visible()
    page.get_by_role("link", name="Newer Post").click()
    expect(page.get_by_role("heading", name="Migration Talks")).to_be_visible()
    screenshot(page, "bulletin-web-copy.png")
    page.get_by_role("link", name="Home").click()
    page.get_by_label("Search U.S. Department of State").fill("climate")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("1 result for")).to_be_visible()
    screenshot(page, "account-search.png")
    page.get_by_role("link", name="Climate Remarks").click()
    expect(page.get_by_role("heading", name="Climate Remarks")).to_be_visible()
