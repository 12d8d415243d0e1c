"""A topic admin in a real browser: watch a feed, poll it, review the draft it made, publish."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.browser import screenshot
from tests.feeds.test_watch_server import SNAPSHOTS, FeedServer, running_server
from tidings.accounts.models import Membership
from tidings.bulletins.models import Bulletin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
NEW_IN_2 = "Presidential Message on National Employer Support of the Guard and Reserve Week"


@pytest.fixture
def feed_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FeedServer]:
    yield from running_server(monkeypatch)


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    screenshot(page, f"feeds-{name}.png")


def test_a_topic_admin_watches_a_feed_and_publishes_its_draft(
    page, live_server, feed_server, account, topic, bob
):  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import User

    tina = User.objects.create_user("tina", "tina@example.gov", "correct horse 9")
    Membership.objects.create(user=tina, account=account, role=Membership.TOPIC_ADMIN)
    feed = feed_server.serve("/briefings.xml", SNAPSHOTS[0])

    page.goto(f"{live_server.url}/console/login/")
    page.fill("input[name=username]", "tina")
    page.fill("input[name=password]", "correct horse 9")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/console/USSTATEBPA/")
    page.click("text=Feeds & pages")
    page.click("text=Watch a feed or page")
    page.select_option("select[name=topic]", label="Press Releases")
    page.check("input[name=kind][value=feed]")
    page.fill("input[name=url]", feed)
    page.check("input[name=mode][value=draft]")
    shot(page, "1-add")
    page.click("button:has-text('Save')")
    page.click("button:has-text('Poll now')")
    expect(page.locator("body")).to_contain_text("10 existing items recorded")
    shot(page, "2-first-poll")

    feed_server.serve("/briefings.xml", SNAPSHOTS[1])
    page.click("button:has-text('Poll now')")
    expect(page.locator("body")).to_contain_text("1 drafts for review")
    page.click("text=draft #")
    expect(page.locator("body")).to_contain_text(f"Press Releases: {NEW_IN_2}")
    shot(page, "3-draft")
    page.click("button:has-text('Publish to subscribers')")
    expect(page.locator("body")).to_contain_text("Published")
    shot(page, "4-published")
    bulletin = Bulletin.objects.get(subject=NEW_IN_2)
    assert bulletin.status == Bulletin.SENDING
    assert list(bulletin.sends.values_list("deliveries__address", flat=True)) == ["bob@example.org"]
