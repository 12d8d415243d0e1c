"""Polling watched feeds and pages into bulletins, with the real feeds of the corpus.

The White House snapshots are four consecutive fetches of one press-release feed: snapshot 2
and 3 each add one item, snapshot 4 only changes the channel's lastBuildDate.
"""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command

from tests.feeds.test_watch_server import FEEDS, SNAPSHOTS, FeedServer, running_server
from tidings.accounts.models import Account, Membership
from tidings.bulletins.actions import create_bulletin, preview_message, publish_bulletin
from tidings.bulletins.models import Bulletin
from tidings.delivery.models import Delivery, Send
from tidings.feeds import poll
from tidings.feeds.models import Item, Watch
from tidings.feeds.poll import PAGE_UPDATED, poll_due, poll_watch
from tidings.ops.periodic import JOBS
from tidings.subscribers.actions import subscribe
from tidings.subscribers.models import Subscriber
from tidings.topics.actions import create_topic
from tidings.topics.models import Topic

pytestmark = pytest.mark.django_db

NEW_IN_2 = "Presidential Message on National Employer Support of the Guard and Reserve Week"
EDITED_GUID = (
    "https://www.whitehouse.gov/briefings-statements/2026/07/"
    "presidential-message-on-national-korean-war-veterans-armistice-day-3cd7/"
)


def watch_of(topic: Topic, url: str, mode: str = Watch.AUTO_SEND, kind: str = Watch.FEED) -> Watch:
    return Watch.objects.create(topic=topic, url=url, mode=mode, kind=kind)


def primed(server: FeedServer, topic: Topic, mode: str = Watch.AUTO_SEND) -> Watch:
    """A watch of the press-release feed whose first poll (snapshot 1) is done."""
    watch = watch_of(topic, server.serve("/briefings.xml", SNAPSHOTS[0]), mode)
    assert poll_watch(watch).primed == 10
    return watch


def notices_to(address: str) -> list[bytes]:
    rows = Delivery.objects.filter(address=address, send__kind=Send.NOTICE).select_related("send")
    return [bytes(row.send.message) for row in rows]


@pytest.fixture
def feed_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FeedServer]:
    yield from running_server(monkeypatch)


@pytest.fixture
def tina(account: Account) -> User:
    """A topic admin of the State Department, who reviews drafts."""
    user = User.objects.create_user("tina", "tina@example.gov", "correct horse 9")
    Membership.objects.create(user=user, account=account, role=Membership.TOPIC_ADMIN)
    return user


def test_it_records_existing_items_on_the_first_poll_without_sending(
    feed_server: FeedServer, topic: Topic, bob: Subscriber
) -> None:
    watch = watch_of(topic, feed_server.serve("/briefings.xml", SNAPSHOTS[0]))
    result = poll_watch(watch)
    assert (result.primed, result.sent, result.drafts, result.error) == (10, [], [], "")
    assert watch.items.count() == 10
    assert not Bulletin.objects.exists()


def test_it_sends_a_new_item_at_once_in_auto_mode(
    feed_server: FeedServer, topic: Topic, bob: Subscriber
) -> None:
    watch = primed(feed_server, topic)
    feed_server.serve("/briefings.xml", SNAPSHOTS[1])
    result = poll_watch(watch)
    assert len(result.sent) == 1 and result.drafts == []
    bulletin = result.sent[0]
    assert bulletin.status == Bulletin.SENDING
    assert bulletin.subject == NEW_IN_2
    assert "guard-and-reserve-week-1d9a/" in bulletin.body
    assert Delivery.objects.filter(send__bulletin=bulletin).get().address == "bob@example.org"
    item = Item.objects.get(watch=watch, bulletin=bulletin)
    assert item.title == NEW_IN_2


def test_its_subject_is_topic_colon_title_once(
    feed_server: FeedServer, topic: Topic, bob: Subscriber
) -> None:
    watch = primed(feed_server, topic)
    feed_server.serve("/briefings.xml", SNAPSHOTS[1])
    bulletin = poll_watch(watch).sent[0]
    msg = preview_message(bulletin, recipient="bob@example.org")
    assert msg["Subject"] == f"Press Releases: {NEW_IN_2}"


def test_it_holds_a_new_item_as_a_draft_and_tells_the_reviewers(
    feed_server: FeedServer, topic: Topic, bob: Subscriber, alice: User, tina: User, erin: User
) -> None:
    watch = primed(feed_server, topic, mode=Watch.DRAFT)
    feed_server.serve("/briefings.xml", SNAPSHOTS[1])
    result = poll_watch(watch)
    assert result.sent == [] and len(result.drafts) == 1
    draft = result.drafts[0]
    assert draft.status == Bulletin.DRAFT
    assert not Send.objects.filter(bulletin=draft).exists()
    for reviewer in ("alice@example.gov", "tina@example.gov"):
        (notice,) = notices_to(reviewer)
        subject = message_from_bytes(notice, policy=default)["Subject"]
        assert subject == f"For review: Press Releases: {NEW_IN_2}"
        assert f"/console/USSTATEBPA/feeds/drafts/{draft.pk}/".encode() in notice
    assert notices_to("erin@example.gov") == []


def test_the_same_feed_polled_again_brings_nothing_new(
    feed_server: FeedServer, topic: Topic, bob: Subscriber
) -> None:
    watch = primed(feed_server, topic)
    again = poll_watch(watch)
    assert (again.sent, again.drafts, again.error) == ([], [], "")
    assert not Bulletin.objects.exists()


def test_a_new_build_date_alone_brings_nothing_new(
    feed_server: FeedServer, topic: Topic, bob: Subscriber
) -> None:
    watch = primed(feed_server, topic)
    sent = []
    for snapshot in SNAPSHOTS[1:]:
        feed_server.serve("/briefings.xml", snapshot)
        sent.append(len(poll_watch(watch).sent))
    assert sent == [1, 1, 0]
    assert Bulletin.objects.count() == 2
    assert watch.items.count() == 12


def test_an_item_edited_under_the_same_guid_becomes_a_draft(
    feed_server: FeedServer, topic: Topic, bob: Subscriber, tina: User
) -> None:
    watch = primed(feed_server, topic, mode=Watch.AUTO_SEND)
    text = SNAPSHOTS[0].read_text()
    assert text.count("Armistice Day") > 1
    edited = text.replace("Armistice Day", "Armistice Day (corrected)")
    feed_server.serve("/briefings.xml", edited.encode())
    result = poll_watch(watch)
    assert result.sent == [] and len(result.drafts) == 1
    draft = result.drafts[0]
    assert draft.status == Bulletin.DRAFT
    assert "(corrected)" in draft.subject
    item = Item.objects.get(watch=watch, guid=EDITED_GUID)
    assert item.bulletin == draft and item.last_changed_at is not None
    assert len(notices_to("tina@example.gov")) == 1
    assert poll_watch(watch).drafts == []


def test_a_304_is_nothing_new(feed_server: FeedServer, topic: Topic, bob: Subscriber) -> None:
    url = feed_server.serve("/briefings.xml", SNAPSHOTS[0], etag='"snap1"')
    watch = watch_of(topic, url)
    poll_watch(watch)
    assert watch.etag == '"snap1"'
    result = poll_watch(watch)
    assert result.not_modified and result.error == ""
    assert feed_server.requests[-1][1]["if-none-match"] == '"snap1"'
    assert not Bulletin.objects.exists()


def test_if_modified_since_is_sent_back(feed_server: FeedServer, topic: Topic) -> None:
    stamp = "Sat, 22 Aug 2026 13:30:25 GMT"
    watch = watch_of(topic, feed_server.serve("/b.xml", SNAPSHOTS[3], last_modified=stamp))
    poll_watch(watch)
    assert poll_watch(watch).not_modified
    assert feed_server.requests[-1][1]["if-modified-since"] == stamp


def test_ill_formed_xml_is_recorded_as_the_watchs_error(
    feed_server: FeedServer, topic: Topic
) -> None:
    broken = SNAPSHOTS[0].read_bytes()[:3000]
    watch = watch_of(topic, feed_server.serve("/broken.xml", broken))
    result = poll_watch(watch)
    assert "not well-formed XML" in result.error
    watch.refresh_from_db()
    assert "not well-formed XML" in watch.last_error
    assert watch.last_checked_at is not None
    assert not watch.items.exists() and not watch.primed


def test_an_html_page_is_not_a_feed(feed_server: FeedServer, topic: Topic) -> None:
    page = b"<!doctype html><html><head><title>Home</title></head><body><p>Hi</p></body></html>"
    watch = watch_of(topic, feed_server.serve("/", page, content_type="text/html"))
    result = poll_watch(watch)
    assert "not an RSS or Atom feed" in result.error
    watch.refresh_from_db()
    assert "not an RSS or Atom feed" in watch.last_error


def test_a_refused_address_is_recorded_as_the_watchs_error(
    feed_server: FeedServer, topic: Topic
) -> None:
    watch = watch_of(topic, "http://metadata.test/latest/meta-data/")
    assert "169.254.169.254" in poll_watch(watch).error
    watch.refresh_from_db()
    assert "private or reserved" in watch.last_error


def test_an_error_clears_after_a_good_poll(feed_server: FeedServer, topic: Topic) -> None:
    watch = watch_of(topic, feed_server.serve("/b.xml", b"<rss><channel><item>"))
    assert poll_watch(watch).error
    feed_server.serve("/b.xml", SNAPSHOTS[0])
    assert poll_watch(watch).error == ""
    watch.refresh_from_db()
    assert watch.last_error == ""


def test_an_unexpected_failure_is_recorded_and_does_not_escape(
    feed_server: FeedServer, topic: Topic, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(response: object, base: str = "") -> None:
        raise RuntimeError("parser bug")

    monkeypatch.setattr(poll, "parse_feed", explode)
    watch = watch_of(topic, feed_server.serve("/b.xml", SNAPSHOTS[0]))
    assert poll_watch(watch).error == "Unexpected error: RuntimeError: parser bug"


def test_one_broken_watch_does_not_stop_the_others(
    feed_server: FeedServer, account: Account, topic: Topic, bob: Subscriber
) -> None:
    broken = watch_of(topic, feed_server.serve("/broken.xml", b"<rss><channel><item>"))
    good = primed(feed_server, topic)
    Watch.objects.filter(pk=good.pk).update(last_checked_at=None)
    feed_server.serve("/briefings.xml", SNAPSHOTS[1])
    assert poll_due() == 2
    broken.refresh_from_db()
    assert broken.last_error
    assert Bulletin.objects.get().subject == NEW_IN_2
    assert poll_due() == 0  # neither is due again before TIDINGS_FEEDS_POLL_EVERY


def test_a_disabled_watch_is_not_polled(feed_server: FeedServer, topic: Topic) -> None:
    watch = watch_of(topic, feed_server.serve("/b.xml", SNAPSHOTS[0]))
    Watch.objects.filter(pk=watch.pk).update(enabled=False)
    assert poll_due() == 0
    assert feed_server.requests == []


def test_the_worker_runs_the_poll_job(feed_server: FeedServer, topic: Topic) -> None:
    _every, job = JOBS["feeds.poll"]
    watch = watch_of(topic, feed_server.serve("/b.xml", SNAPSHOTS[0]))
    job()
    assert Watch.objects.get(pk=watch.pk).items.count() == 10


def test_the_poll_feeds_command_polls_once(
    feed_server: FeedServer, topic: Topic, capsys: pytest.CaptureFixture[str]
) -> None:
    watch = watch_of(topic, feed_server.serve("/b.xml", SNAPSHOTS[0]))
    call_command("poll_feeds")
    assert f"#{watch.pk} {watch.url}: 0 sent, 0 drafts, 10 recorded" in capsys.readouterr().out


@pytest.mark.parametrize(
    "name", ["rsparser_DaringFireball.atom", "rsparser_bio.rdf", "rsparser_inessential.json"]
)
def test_other_real_feeds_send_their_new_items(
    feed_server: FeedServer, topic: Topic, bob: Subscriber, name: str
) -> None:
    data = (FEEDS / name).read_bytes()
    watch = watch_of(topic, feed_server.serve("/f", data, content_type="application/xml"))
    result = poll_watch(watch)
    assert result.error == "" and result.primed > 1
    # Forget the newest item: the next poll finds it new.
    newest = watch.items.order_by("-pk").first()
    assert newest is not None
    newest.delete()
    (bulletin,) = poll_watch(watch).sent
    assert bulletin.subject == newest.title
    assert newest.link in bulletin.body


PAGE = """<!doctype html><html><head><title>Travel Advisories</title>
<style>body {{ color: red }}</style><script>var t = "{script}";</script></head>
<body><header>Site header {nav}</header><nav>Menu {nav}</nav>
<main><h1>Travel Advisories</h1><p>{text}</p></main>
<footer>Footer {nav}</footer></body></html>"""


def test_a_page_change_in_the_main_text_sends_a_bulletin(
    feed_server: FeedServer, topic: Topic, bob: Subscriber
) -> None:
    def page(text: str, nav: str = "a", script: str = "1") -> bytes:
        return PAGE.format(text=text, nav=nav, script=script).encode()

    url = feed_server.serve("/advisories", page("Level 1 for Canada."), "text/html")
    watch = watch_of(topic, url, kind=Watch.PAGE)
    assert poll_watch(watch).primed == 1
    feed_server.serve("/advisories", page("Level 1 for Canada.", nav="b", script="2"), "text/html")
    assert poll_watch(watch).sent == []
    feed_server.serve("/advisories", page("Level 2 for Canada."), "text/html")
    (bulletin,) = poll_watch(watch).sent
    assert bulletin.subject == "Travel Advisories"
    assert PAGE_UPDATED in bulletin.body
    assert url in bulletin.body
    assert poll_watch(watch).sent == []


def test_a_bulletin_with_two_topics_reaches_a_subscriber_of_both_once(
    account: Account, topic: Topic
) -> None:
    second = create_topic(account, name="Travel", code="USSTATEBPA_2")
    subscribe(account, "both@example.org", [topic, second], confirmed=True)
    subscribe(account, "one@example.org", [second], confirmed=True)
    bulletin = create_bulletin(account, subject="Hi", body="Body", topics=[topic, second])
    send = publish_bulletin(bulletin)
    addresses = sorted(send.deliveries.values_list("address", flat=True))
    assert addresses == ["both@example.org", "one@example.org"]


def test_a_burst_of_new_items_is_held_for_review(
    feed_server: FeedServer, topic: Topic, bob: Subscriber, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "FEEDS_MAX_AUTO_SEND", 1)
    watch = primed(feed_server, topic)
    renumbered = SNAPSHOTS[0].read_text().replace('<guid isPermaLink="true">', "<guid>v2:")
    feed_server.serve("/briefings.xml", renumbered.encode())
    result = poll_watch(watch)
    assert result.sent == [] and len(result.drafts) == 10
    assert not Send.objects.filter(kind=Send.BULLETIN).exists()


def test_a_plain_text_description_keeps_its_paragraphs(
    feed_server: FeedServer, topic: Topic, bob: Subscriber
) -> None:
    watch = primed(feed_server, topic)
    feed_server.serve("/briefings.xml", SNAPSHOTS[1])
    (bulletin,) = poll_watch(watch).sent
    assert bulletin.body.count("<p>") > 5
    assert "<p>The White HouseAugust 17, 2026</p>" in bulletin.body


def test_item_html_is_sanitized(feed_server: FeedServer, topic: Topic, bob: Subscriber) -> None:
    watch = primed(feed_server, topic)
    evil = (
        SNAPSHOTS[0]
        .read_text()
        .replace(
            "<item>",
            "<item><title>Evil</title><guid>evil-1</guid><link>https://example.org/evil</link>"
            '<description>&lt;p onclick="x()"&gt;Hi&lt;script&gt;alert(1)&lt;/script&gt;'
            '&lt;a href="javascript:x()"&gt;link&lt;/a&gt;&lt;/p&gt;</description></item><item>',
            1,
        )
    )
    feed_server.serve("/briefings.xml", evil.encode())
    (bulletin,) = poll_watch(watch).sent
    assert "<p>Hi" in bulletin.body
    for bad in ("onclick", "<script", "alert(1)", "javascript:"):
        assert bad not in bulletin.body


def test_a_non_http_link_is_dropped(feed_server: FeedServer, topic: Topic, bob: Subscriber) -> None:
    watch = primed(feed_server, topic)
    evil = (
        SNAPSHOTS[0]
        .read_text()
        .replace(
            "<item>",
            "<item><title>Click</title><guid>evil-2</guid><link>javascript:alert(1)</link>"
            "<description>Text</description></item><item>",
            1,
        )
    )
    feed_server.serve("/briefings.xml", evil.encode())
    (bulletin,) = poll_watch(watch).sent
    assert "javascript" not in bulletin.body
    assert Item.objects.get(watch=watch, guid__endswith="evil-2").link == ""


def test_a_feed_that_moves_behind_a_redirect_keeps_its_items(
    feed_server: FeedServer, topic: Topic, bob: Subscriber
) -> None:
    watch = primed(feed_server, topic)
    feed_server.serve("/new-home.xml", SNAPSHOTS[0])
    feed_server.redirect("/briefings.xml", "/new-home.xml", status=301)
    result = poll_watch(watch)
    assert (result.error, result.sent, result.drafts) == ("", [], [])
    assert watch.items.count() == 10
