"""Public pages served from the cache by the front (ops.front over Django's WSGI handler, as the
web server runs it): validators and 304s, invalidation, and nothing personal ever cached."""

from __future__ import annotations

import io
import os
import re
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection

from tests.archive.test_archive import press_release
from tidings.archive.actions import add_comment, approve_comment, archive_post
from tidings.archive.models import Post
from tidings.lib import pagecache
from tidings.ops.front import front

pytestmark = pytest.mark.django_db(transaction=True)
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


class Response:
    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status = int(status.split()[0])
        self.headers = {k.lower(): v for k, v in headers}
        self.set_cookies = [v for k, v in headers if k.lower() == "set-cookie"]
        self.text = body.decode()


class Reader:
    """A browser of sorts: the WSGI application the web server runs, and a cookie jar."""

    def __init__(self) -> None:
        self.app = front(WSGIHandler())
        self.cookies: dict[str, str] = {}

    def get(self, path: str, **headers: str) -> Response:
        path, _, query = path.partition("?")
        environ: dict[str, object] = {"PATH_INFO": path, "QUERY_STRING": query}
        environ["HTTP_HOST"] = "testserver"
        setup_testing_defaults(environ)
        environ["wsgi.input"] = io.BytesIO()
        if self.cookies:
            environ["HTTP_COOKIE"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        environ |= {f"HTTP_{k.upper()}": v for k, v in headers.items()}
        started: list[tuple[str, list[tuple[str, str]]]] = []
        body = b"".join(self.app(environ, lambda s, h, *_: started.append((s, h))))
        response = Response(*started[0], body)
        for cookie in response.set_cookies:
            name, _, rest = cookie.partition("=")
            self.cookies[name.strip()] = rest.split(";")[0]
        return response


@pytest.fixture
def reader() -> Reader:
    return Reader()


@pytest.fixture
def post(wanabidii):  # type: ignore[no-untyped-def]
    return archive_post(wanabidii, press_release())


def url(post: Post) -> str:
    return f"/lists/{post.mailing_list.name}/{post.slug}/"


def change_behind_the_cache(post: Post, subject: str) -> None:
    """Change the post as no signal sees it: what is served after that came from the cache."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE archive_post SET subject = %s WHERE id = %s", [subject, post.pk])


def test_a_public_page_is_served_again_from_the_cache(reader, post) -> None:  # type: ignore[no-untyped-def]
    first = reader.get(url(post))
    change_behind_the_cache(post, "Changed quietly")
    again, other = reader.get(url(post)), Reader().get(url(post))

    assert first.status == again.status == other.status == 200
    assert "Changed quietly" not in again.text + other.text
    assert again.headers["etag"] == first.headers["etag"]
    # Another reader: the same page, with a CSRF token (and so an ETag) of their own.
    assert other.headers["etag"].split("-")[0] == first.headers["etag"].split("-")[0]


def test_it_answers_if_none_match_with_304(reader, post) -> None:  # type: ignore[no-untyped-def]
    etag = reader.get(url(post)).headers["etag"]

    cached = reader.get(url(post), if_none_match=etag)
    other_page = reader.get(f"/lists/{post.mailing_list.name}/", if_none_match=etag)

    assert (cached.status, cached.text, cached.headers["etag"]) == (304, "", etag)
    assert other_page.status == 200


def test_a_new_comment_or_post_makes_the_pages_fresh(reader, post, wanabidii) -> None:  # type: ignore[no-untyped-def]
    index = f"/lists/{wanabidii.name}/"
    before = reader.get(url(post)).headers["etag"]
    reader.get(index)

    comment = add_comment(post, name="Juma", email="juma@example.org", body="Asante sana.")
    if comment.status != comment.PUBLISHED:
        approve_comment(comment)
    archive_post(
        wanabidii, press_release("<press-2@example.org>", date="Wed, 02 Dec 2015 09:00:00 -0500")
    )

    page = reader.get(url(post), if_none_match=before)
    assert page.status == 200 and "Asante sana." in page.text
    assert reader.get(index).text.count("Hold Migration Talks") == 2


def test_a_logged_in_reader_is_never_served_from_or_into_the_cache(
    reader, post, client, alice
) -> None:  # type: ignore[no-untyped-def]
    anonymous = reader.get(url(post)).text
    client.force_login(alice)
    staff = Reader()
    staff.cookies = {"sessionid": client.cookies["sessionid"].value}

    change_behind_the_cache(post, "Changed quietly")
    seen_by_staff = staff.get(url(post))

    assert "Changed quietly" in seen_by_staff.text  # rendered for them
    # What they saw was not stored: others still get the page as it was cached.
    assert TOKEN.sub("", Reader().get(url(post)).text) == TOKEN.sub("", anonymous)


def test_each_reader_gets_a_csrf_token_of_their_own(reader, account) -> None:  # type: ignore[no-untyped-def]
    path = f"/subscriptions/{account.code}/"
    first, second = reader.get(path), Reader()
    second_page = second.get(path)
    first_again = reader.get(path)

    def token(page: Response) -> str:
        return page.text.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]

    assert first.status == second_page.status == first_again.status == 200
    assert reader.cookies["csrftoken"] != second.cookies["csrftoken"]
    assert len({token(first), token(second_page), token(first_again)}) == 3
    assert "\x00" not in first_again.text
    # The stored page was served, with the returning reader's own secret behind its token.
    from django.middleware.csrf import _does_token_match  # type: ignore[attr-defined]

    assert _does_token_match(token(first_again), reader.cookies["csrftoken"])
    assert _does_token_match(token(second_page), second.cookies["csrftoken"])
    assert not _does_token_match(token(second_page), reader.cookies["csrftoken"])


def test_pages_can_live_in_redis_shared_by_web_machines(settings, post) -> None:  # type: ignore[no-untyped-def]
    import redis

    prefix = f"tidings-test-{os.getpid()}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/9",
            "KEY_PREFIX": prefix,
        }
    }
    first = Reader().get(url(post))
    change_behind_the_cache(post, "Changed quietly")
    pagecache._recent.clear()  # as another web machine would: nothing of its own in memory

    assert "Changed quietly" not in Reader().get(url(post)).text
    stored = redis.Redis(host="127.0.0.1", port=6379, db=9).keys(f"{prefix}:*tidings:page:*")
    assert len(stored) == 1

    post.refresh_from_db()
    post.save()  # a change the signals see: every machine's pages are stale
    assert "Changed quietly" in Reader().get(url(post)).text
    assert first.status == 200
