"""A watched feed never stalls a poll: a hard deadline for slow servers, and entries with little
or nothing to say handled one by one."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from django.conf import settings

from tests.feeds.test_watch_server import FeedServer, running_server, stub_resolve
from tidings.bulletins.models import Bulletin
from tidings.feeds import fetch
from tidings.feeds.models import Watch
from tidings.feeds.poll import poll_watch
from tidings.topics.models import Topic


@pytest.fixture
def feed_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FeedServer]:
    yield from running_server(monkeypatch)


@pytest.fixture
def dripping(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A server that answers a byte every 0.2 s, forever: each read is well within the socket
    timeout, so only a deadline for the whole response stops it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.5)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                conn.recv(4096)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n\r\n<rss")
                while not stop.is_set():
                    try:
                        conn.sendall(b" ")
                    except OSError:
                        break
                    time.sleep(0.2)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    monkeypatch.setattr(fetch, "resolve", stub_resolve)
    monkeypatch.setattr(settings, "FEEDS_ALLOW_HOSTS", {"feeds.test"})
    monkeypatch.setattr(settings, "FEEDS_DEADLINE", 2)
    yield f"http://feeds.test:{port}/slow.xml"
    stop.set()
    listener.close()
    thread.join(5)


def test_a_server_dripping_bytes_is_cut_at_the_deadline(dripping: str) -> None:
    started = time.monotonic()
    with pytest.raises(fetch.FetchError, match="took over 2 seconds"):
        fetch.fetch(dripping)
    assert time.monotonic() - started < 6


@pytest.mark.django_db
def test_a_poll_of_a_dripping_feed_ends_with_the_reason(dripping: str, topic: Topic) -> None:
    watch = Watch.objects.create(topic=topic, url=dripping, mode=Watch.AUTO_SEND)
    result = poll_watch(watch)
    assert "took over 2 seconds" in result.error


def _feed(*items: str) -> bytes:
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Alerts</title>'
        "<link>https://example.gov/</link><description>d</description>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


FIRST = "<item><guid>a-1</guid><title>Old</title><description>Known.</description></item>"


@pytest.mark.django_db
def test_a_title_only_entry_makes_a_bulletin_and_an_empty_one_is_skipped_and_told(
    feed_server: FeedServer, topic: Topic, bob
) -> None:  # type: ignore[no-untyped-def]
    url = feed_server.serve("/alerts.xml", _feed(FIRST))
    watch = Watch.objects.create(topic=topic, url=url, mode=Watch.DRAFT)
    assert poll_watch(watch).primed == 1

    feed_server.serve("/alerts.xml", _feed(
        '<item><guid isPermaLink="false">a-3</guid>'
        "<title>Road closed on Main Street</title></item>",
        '<item><guid isPermaLink="false">a-2</guid></item>',
        FIRST,
    ))  # fmt: skip
    result = poll_watch(watch)

    assert result.error == ""
    (draft,) = result.drafts
    assert draft.subject == "Road closed on Main Street"
    assert "Road closed on Main Street" in draft.body
    assert len(result.skipped) == 1 and "a-2" in result.skipped[0]
    watch.refresh_from_db()
    assert "Skipped" in watch.last_error and "a-2" in watch.last_error
    # Told once: the next poll of the same feed skips it silently and makes nothing new.
    again = poll_watch(watch)
    assert (again.drafts, again.skipped, again.error) == ([], [], "")
    assert Bulletin.objects.count() == 1
