"""The console pages of feeds and pages: topic admins edit and review, viewers only read."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.feeds.test_watch_server import SNAPSHOTS, FeedServer, running_server
from tidings.accounts.models import Account, Membership
from tidings.bulletins.models import Bulletin
from tidings.delivery.models import Send
from tidings.feeds.models import Watch
from tidings.feeds.poll import poll_watch
from tidings.subscribers.models import Subscriber
from tidings.topics.actions import create_topic
from tidings.topics.models import Topic

pytestmark = pytest.mark.django_db


@pytest.fixture
def feed_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FeedServer]:
    yield from running_server(monkeypatch)


@pytest.fixture
def tina(account: Account) -> User:
    user = User.objects.create_user("tina", "tina@example.gov", "correct horse 9")
    Membership.objects.create(user=user, account=account, role=Membership.TOPIC_ADMIN)
    return user


def as_user(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(name: str, *args: object) -> str:
    return reverse(f"feeds:{name}", args=["USSTATEBPA", *args])


def draft_from(server: FeedServer, topic: Topic) -> tuple[Watch, Bulletin]:
    watch = Watch.objects.create(
        topic=topic, url=server.serve("/b.xml", SNAPSHOTS[0]), mode=Watch.DRAFT
    )
    poll_watch(watch)
    server.serve("/b.xml", SNAPSHOTS[1])
    (draft,) = poll_watch(watch).drafts
    return watch, draft


def test_it_adds_a_watch_and_polls_it_now(
    feed_server: FeedServer, tina: User, topic: Topic
) -> None:
    client = as_user(tina)
    feed = feed_server.serve("/b.xml", SNAPSHOTS[0])
    data = {"topic": topic.pk, "kind": "feed", "url": feed, "mode": "auto", "enabled": "on"}
    response = client.post(url("add"), data)
    watch = Watch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("watch", watch.pk)
    assert (watch.topic, watch.url, watch.mode) == (topic, feed, Watch.AUTO_SEND)
    page = client.post(url("poll", watch.pk), follow=True).content.decode()
    assert "10 existing items recorded" in page
    assert "Presidential Message on the 45th Anniversary" in page


def test_it_refuses_a_private_address_when_saving(tina: User, topic: Topic) -> None:
    data = {"topic": topic.pk, "kind": "feed", "url": "http://169.254.169.254/", "mode": "auto"}
    page = as_user(tina).post(url("add"), data).content.decode()
    assert "private or reserved address" in page
    assert not Watch.objects.exists()


def test_it_shows_the_last_error_on_the_watch_and_topic_pages(
    feed_server: FeedServer, victor: User, topic: Topic
) -> None:
    html = b"<!doctype html><html><body><main>Not a feed</main></body></html>"
    watch = Watch.objects.create(topic=topic, url=feed_server.serve("/", html, "text/html"))
    poll_watch(watch)
    client = as_user(victor)
    for page in (url("watch", watch.pk), url("index") + f"?topic={topic.pk}"):
        text = client.get(page).content.decode()
        assert "This is an HTML page, not an RSS or Atom feed" in text


def test_a_viewer_reads_but_cannot_change(
    feed_server: FeedServer, victor: User, topic: Topic
) -> None:
    watch, draft = draft_from(feed_server, topic)
    client = as_user(victor)
    index = client.get(url("index")).content.decode()
    assert watch.url in index
    assert url("add") not in index
    assert "Poll now" not in client.get(url("watch", watch.pk)).content.decode()
    assert client.get(url("add")).status_code == 404
    assert client.post(url("poll", watch.pk)).status_code == 404
    assert client.post(url("delete", watch.pk)).status_code == 404
    assert client.post(url("publish", draft.pk)).status_code == 404
    draft.refresh_from_db()
    assert draft.status == Bulletin.DRAFT
    assert Watch.objects.filter(pk=watch.pk).exists()


def test_a_topic_admin_publishes_a_reviewed_draft(
    feed_server: FeedServer, tina: User, topic: Topic, bob: Subscriber
) -> None:
    _watch, draft = draft_from(feed_server, topic)
    client = as_user(tina)
    listing = client.get(url("drafts")).content.decode()
    assert url("draft", draft.pk) in listing
    detail = client.get(url("draft", draft.pk)).content.decode()
    assert f"Press Releases: {draft.subject}" in detail
    response = client.post(url("publish", draft.pk), follow=True)
    assert "Published" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == Bulletin.SENDING
    send = Send.objects.get(bulletin=draft)
    assert list(send.deliveries.values_list("address", flat=True)) == ["bob@example.org"]
    assert client.post(url("publish", draft.pk)).status_code == 302  # told, not sent twice
    assert Send.objects.filter(bulletin=draft).count() == 1


def test_only_watch_drafts_are_published_here(tina: User, account: Account, topic: Topic) -> None:
    from tidings.bulletins.actions import create_bulletin

    other = create_bulletin(account, subject="Hand written", body="Hi", topics=[topic])
    assert as_user(tina).post(url("publish", other.pk)).status_code == 404
    other.refresh_from_db()
    assert other.status == Bulletin.DRAFT


def test_it_edits_and_deletes_a_watch(feed_server: FeedServer, tina: User, topic: Topic) -> None:
    watch = Watch.objects.create(topic=topic, url=feed_server.serve("/b.xml", SNAPSHOTS[0]))
    poll_watch(watch)
    client = as_user(tina)
    moved = feed_server.serve("/c.xml", SNAPSHOTS[1])
    data = {"topic": topic.pk, "kind": "feed", "url": moved, "mode": "draft", "enabled": "on"}
    assert client.post(url("edit", watch.pk), data).status_code == 302
    watch.refresh_from_db()
    assert (watch.url, watch.mode, watch.primed, watch.items.count()) == (moved, "draft", False, 0)
    assert client.post(url("delete", watch.pk)).status_code == 302
    assert not Watch.objects.filter(pk=watch.pk).exists()


def test_other_tenants_see_nothing(
    feed_server: FeedServer, oscar: User, tina: User, topic: Topic, other_account: Account
) -> None:
    watch, draft = draft_from(feed_server, topic)
    client = as_user(oscar)
    for page in (url("index"), url("watch", watch.pk), url("drafts"), url("draft", draft.pk)):
        assert client.get(page).status_code == 404
    theirs = reverse("feeds:watch", args=["OTHERAGENCY", watch.pk])
    assert client.get(theirs).status_code == 404
    # A topic of another account cannot be chosen for a watch.
    foreign = create_topic(other_account, name="Theirs", code="OTHER_1")
    data = {"topic": foreign.pk, "kind": "feed", "url": "https://example.org/", "mode": "auto"}
    assert as_user(tina).post(url("add"), data).status_code == 200
    assert not Watch.objects.filter(topic=foreign).exists()


def test_the_menu_has_feeds_and_pages(victor: User) -> None:
    page = as_user(victor).get(reverse("console:account", args=["USSTATEBPA"])).content.decode()
    assert f'href="{url("index")}">Feeds &amp; pages' in page


def test_the_index_takes_the_same_queries_for_more_watches(tina: User, topic: Topic) -> None:
    client = as_user(tina)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url("index")).status_code == 200
        return len(ctx.captured_queries)

    Watch.objects.create(topic=topic, url="https://example.org/a.xml")
    few = queries()
    for n in range(5):
        Watch.objects.create(topic=topic, url=f"https://example.org/{n}.xml", kind=Watch.PAGE)
    assert queries() == few
