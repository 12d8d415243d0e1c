"""Every optional part may fail: with the page cache down (a real Redis killed), hung (frozen
with SIGSTOP) or its folder gone, pages are served uncached within a bounded extra time, posts
are routed, relayed and archived, bulletins are published, /healthz answers 503 naming the
cache; the bumps the cache missed are made when it answers again; a passing error while routing
received mail is retried, never dead-lettered.

Each test runs its own redis-server on a free port (never the shared one)."""

from __future__ import annotations

import io
import shutil
import signal
import smtplib
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from wsgiref.util import setup_testing_defaults

import pytest
import redis
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.db import OperationalError, connection
from django.utils import timezone

from tests.archive.test_archive import press_release
from tests.smtp_helpers import free_port, tidings_smtpd
from tidings.accounts.models import Account
from tidings.archive.actions import archive_post
from tidings.archive.models import Post
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.bulletins.models import Bulletin
from tidings.delivery.models import Send
from tidings.inbound import router
from tidings.inbound.models import InboundMessage
from tidings.lib import pagecache
from tidings.lists.actions import allow_sender, create_list
from tidings.lists.models import MailingList
from tidings.ops.front import front
from tidings.topics.models import Topic

pytestmark = pytest.mark.django_db(transaction=True)
SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
# What one request may cost over its usual time while the cache is hung: one socket timeout
# (settings.CACHE_TIMEOUT, 0.25 s) and the test machine's slack.
BOUNDED = 1.5


class Redis:
    """A redis-server of this test's own, to kill, freeze and start again."""

    def __init__(self, *options: str) -> None:
        self.port = free_port()
        self.options = options
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", *self.options],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = self.client()
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def freeze(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.thaw()
            self.kill()


def redis_cache(settings, *options: str) -> Iterator[Redis]:  # type: ignore[no-untyped-def]
    """The page cache in a Redis of the test's own, as TIDINGS_CACHE_URL sets it up."""
    server = Redis(*options)
    server.start()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{server.port}/0",
            "OPTIONS": {
                "socket_connect_timeout": settings.CACHE_TIMEOUT,
                "socket_timeout": settings.CACHE_TIMEOUT,
            },
        }
    }
    pagecache.forget()
    try:
        yield server
    finally:
        server.stop()
        pagecache.forget()


@pytest.fixture
def cache(settings) -> Iterator[Redis]:  # type: ignore[no-untyped-def]
    yield from redis_cache(settings)


@pytest.fixture
def full_cache(settings) -> Iterator[Redis]:  # type: ignore[no-untyped-def]
    """A Redis that refuses writes once 2 MB are used."""
    yield from redis_cache(settings, "--maxmemory", "2mb", "--maxmemory-policy", "noeviction")


@lru_cache(maxsize=1)
def application() -> Callable[..., Iterable[bytes]]:
    """The front over Django's WSGI handler, as tidings.wsgi makes it (once: its middleware is
    loaded once per process, as in a web server's)."""
    return front(WSGIHandler())


def get(path: str) -> tuple[int, str]:
    """An anonymous GET through the application the web server runs (the front, then Django)."""
    path, _, query = path.partition("?")
    environ: dict[str, object] = {"PATH_INFO": path, "QUERY_STRING": query}
    environ["HTTP_HOST"] = "testserver"
    setup_testing_defaults(environ)
    environ["wsgi.input"] = io.BytesIO()
    started: list[str] = []
    body = b"".join(application()(environ, lambda s, h, *_: started.append(s)))
    return int(started[0].split()[0]), body.decode()


def pages(account: Account, post: Post) -> list[str]:
    """The anonymous pages of the issue: home, archives, subscribe, console login, the API's
    document."""
    return [
        "/",
        f"/lists/{post.mailing_list.name}/",
        f"/lists/{post.mailing_list.name}/{post.slug}/",
        f"/subscriptions/{account.code}/",
        "/console/login/",
        "/api/v1/openapi.json",
    ]


@pytest.fixture
def post(wanabidii: MailingList) -> Post:
    return archive_post(wanabidii, press_release())


def stored_pages(server: Redis) -> int:
    return len(server.client().keys("*tidings:page:*"))


def test_with_the_cache_killed_every_page_is_served_and_healthz_names_it(  # type: ignore[no-untyped-def]
    cache, client, account, post
) -> None:
    for path in pages(account, post):
        assert get(path)[0] == 200, path
    assert stored_pages(cache) >= 3  # the public pages were stored

    cache.kill()

    for path in pages(account, post):
        status, body = get(path)
        assert status == 200 and len(body) > 100, path
    health = client.get("/healthz")
    assert health.status_code == 503
    assert "cache" in health.json()["checks"]["cache"]
    # Staff can still log in; readers can still subscribe (sessions and limits live elsewhere).
    login = client.post("/console/login/", {"username": "nobody", "password": "x"})
    assert login.status_code == 200  # the form again, with its error: not a 500
    subscribe = client.post(
        f"/subscriptions/{account.code}/", {"email": "new@example.org", "topics": []}
    )
    assert subscribe.status_code in (200, 302)


def test_with_the_cache_hung_a_page_costs_a_bounded_time(
    cache, client, account, post, caplog
) -> None:  # type: ignore[no-untyped-def]
    path = f"/lists/{post.mailing_list.name}/{post.slug}/"
    assert get(path)[0] == 200
    cache.freeze()
    try:
        started = time.monotonic()
        first = get(path)
        first_took = time.monotonic() - started
        after = [get(p) for p in pages(account, post)]
        health = client.get("/healthz")
    finally:
        cache.thaw()
    waits = [r for r in caplog.records if r.getMessage().startswith("the page cache failed")]

    assert first[0] == 200 and "Hold Migration Talks" in first[1]
    assert first_took < BOUNDED  # one socket timeout, not five seconds
    assert all(status == 200 for status, _ in after)
    # The cache was then left alone: the other pages (and /healthz) did not wait for it again.
    assert len(waits) == 1
    assert health.status_code == 503 and health.json()["checks"]["cache"]


def deliver(port: int, mailing_list: MailingList, subject: str) -> None:
    """A post to the list through Tidings' own SMTP server: 250 means it is kept."""
    raw = (
        f"From: usstatebpa@tidings.localhost\r\nTo: {mailing_list.address}\r\n"
        f"Subject: {subject}\r\nMessage-ID: <{subject.replace(' ', '.')}@example.org>\r\n"
        f"Date: Wed, 02 Dec 2015 09:00:00 -0500\r\n\r\nSaid during the outage.\r\n"
    ).encode()
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        refused = smtp.sendmail("usstatebpa@tidings.localhost", [mailing_list.address], raw)
    assert refused == {}


def test_a_post_answered_250_while_the_cache_is_down_is_relayed_and_archived(  # type: ignore[no-untyped-def]
    cache, settings, wanabidii, post, monkeypatch
) -> None:
    monkeypatch.setattr(pagecache, "BREAKER_SECONDS", 0.3)  # tried again soon after the thaw
    index = f"/lists/{wanabidii.name}/"
    assert get(index)[0] == 200
    generation = f":1:{pagecache.GENERATION}{pagecache.mailing_list(wanabidii.pk)}"
    before = int(cache.client().get(generation) or 0)

    cache.freeze()  # the stored index stays in Redis, stale once the post is archived
    try:
        with tidings_smtpd(settings) as port:
            deliver(port, wanabidii, "Outage notes")
        assert router.route_one()
    finally:
        cache.thaw()

    routed = InboundMessage.objects.get()
    assert routed.state == InboundMessage.DONE, routed.notes
    assert Post.objects.filter(mailing_list=wanabidii, subject__contains="Outage notes").exists()
    assert Send.objects.filter(channel=Send.EMAIL).exists()  # relayed to the members
    # When the cache answers again the worker makes the bump it missed: the index is fresh.
    time.sleep(pagecache.BREAKER_SECONDS)
    assert not router.route_one()  # nothing to route; the missed bump is made
    assert int(cache.client().get(generation) or 0) > before
    pagecache._recent.clear()  # as another web process would see it
    assert "Outage notes" in get(index)[1]


def test_publishing_goes_on_with_the_cache_down(
    cache, account, topic: Topic, bob, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    cache.kill()

    send = publish_bulletin(create_bulletin(account, subject="News", body="Hi.", topics=[topic]))
    text = tmp_path / "notice.md"
    text.write_text("# Office closed\n\nThe office is closed on Friday.\n")
    call_command("publish", str(text), "--account", account.code, "--topic", topic.code)

    assert send.pk and Bulletin.objects.get(pk=send.bulletin_id).status != Bulletin.DRAFT
    assert get(f"/bulletins/{send.bulletin_id}/")[0] == 200
    published = Bulletin.objects.get(subject="Office closed")
    assert published.status != Bulletin.DRAFT
    assert get(f"/bulletins/{published.pk}/")[0] == 200


def test_with_the_cache_folder_gone_pages_are_served(
    settings, client, account, post, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache's folder should be")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(blocked / "cache"),
        }
    }
    pagecache.forget()

    for path in pages(account, post):
        assert get(path)[0] == 200, path
    archive_post(post.mailing_list, press_release("<press-2@example.org>"))
    health = client.get("/healthz")

    assert health.status_code == 503 and "cache" in health.json()["checks"]["cache"]
    assert Post.objects.filter(mailing_list=post.mailing_list).count() == 2
    pagecache.forget()


def test_a_passing_error_while_routing_is_retried_never_dead_lettered(  # type: ignore[no-untyped-def]
    settings, wanabidii, monkeypatch
) -> None:
    handle = router.HANDLERS["list"]
    failures = [OperationalError("database is locked"), ConnectionResetError("reset by peer")]

    def flaky(*args: object) -> str:
        if failures:
            raise failures.pop(0)
        return handle(*args)  # type: ignore[arg-type]

    monkeypatch.setitem(router.HANDLERS, "list", flaky)
    with tidings_smtpd(settings) as port:
        deliver(port, wanabidii, "Retried post")
    message = InboundMessage.objects.get()

    for _ in range(2):
        assert router.route_one()
        message.refresh_from_db()
        assert message.state == InboundMessage.NEW, message.notes  # waiting, not failed
        assert not router.route_one()  # not tried again at once
        InboundMessage.objects.filter(pk=message.pk).update(lease_until=timezone.now())

    assert router.route_one()
    message.refresh_from_db()
    assert message.state == InboundMessage.DONE
    assert Post.objects.filter(mailing_list=wanabidii, subject__contains="Retried post").exists()


def test_a_retried_message_for_two_lists_gives_each_list_one_post(  # type: ignore[no-untyped-def]
    settings, account, wanabidii, monkeypatch
) -> None:
    """The first list's post is made before a passing error stops the second's: the retry
    goes on with the second and never posts to the first again."""
    second = create_list("second", account=account)
    second.require_sender_authentication = False
    second.save(update_fields=["require_sender_authentication"])
    allow_sender(second, account.sender_address)
    handle = router.HANDLERS["list"]
    calls: list[str] = []

    def flaky(message: object, msg: object, dest: object) -> str:
        calls.append(str(getattr(dest, "address", dest)))
        if len(calls) == 2:  # the second recipient, on the first try
            raise OperationalError("database is locked")
        return handle(message, msg, dest)  # type: ignore[arg-type]

    monkeypatch.setitem(router.HANDLERS, "list", flaky)
    raw = (
        f"From: {account.sender_address}\r\nTo: {wanabidii.address}, {second.address}\r\n"
        "Subject: To both\r\nMessage-ID: <both@example.org>\r\n"
        "Date: Wed, 02 Dec 2015 09:00:00 -0500\r\n\r\nOne post each.\r\n"
    ).encode()
    with tidings_smtpd(settings) as port, smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        assert smtp.sendmail(account.sender_address, [wanabidii.address, second.address], raw) == {}
    message = InboundMessage.objects.get()

    assert router.route_one()
    message.refresh_from_db()
    assert message.state == InboundMessage.NEW, message.notes
    InboundMessage.objects.filter(pk=message.pk).update(lease_until=timezone.now())
    assert router.route_one()

    message.refresh_from_db()
    assert message.state == InboundMessage.DONE, message.notes
    assert len(calls) == 3  # first, second (failed), second again: the first not again
    for mailing_list in (wanabidii, second):
        assert (
            Post.objects.filter(mailing_list=mailing_list, subject__contains="To both").count() == 1
        )


def test_a_lasting_error_while_routing_is_still_a_dead_letter(
    settings, wanabidii, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    def broken(*args: object) -> str:
        raise ValueError("a bug")

    monkeypatch.setitem(router.HANDLERS, "list", broken)
    with tidings_smtpd(settings) as port:
        deliver(port, wanabidii, "Broken post")

    assert router.route_one()
    assert InboundMessage.objects.get().state == InboundMessage.FAILED


def test_with_the_cache_full_pages_are_served_and_posts_archived(  # type: ignore[no-untyped-def]
    full_cache, client, account, post
) -> None:
    filler = full_cache.client()
    with pytest.raises(redis.exceptions.OutOfMemoryError):
        for n in range(10_000):
            filler.set(f"filler:{n}", b"x" * 10_000)

    for path in pages(account, post):
        assert get(path)[0] == 200, path
    archive_post(post.mailing_list, press_release("<press-2@example.org>"))
    health = client.get("/healthz")

    assert health.status_code == 503 and "OutOfMemoryError" in health.json()["checks"]["cache"]
    assert Post.objects.filter(mailing_list=post.mailing_list).count() == 2
    assert "Hold Migration Talks" in get(f"/lists/{post.mailing_list.name}/")[1]


def test_after_an_outage_no_page_stored_before_it_is_served(cache, post, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A change made while the cache was hung may have lost its bump with the process that
    made it (a command that has exited since): the pages stored before are stale once it
    answers again."""
    monkeypatch.setattr(pagecache, "BREAKER_SECONDS", 0.3)
    path = f"/lists/{post.mailing_list.name}/{post.slug}/"
    assert get(path)[0] == 200  # stored
    cache.freeze()
    try:
        with connection.cursor() as cursor:  # the change, its bump lost
            cursor.execute("UPDATE archive_post SET subject = %s WHERE id = %s", ["Moved", post.pk])
        during = get(path)
    finally:
        cache.thaw()
    time.sleep(pagecache.BREAKER_SECONDS)

    assert during[0] == 200 and "Moved" in during[1]  # rendered, the cache being away
    assert "Moved" in get(path)[1]  # not the page stored before the outage
