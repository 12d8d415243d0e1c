"""The page cache trusts only what Django trusts: a page is stored, and served from the cache, only
for a request Django itself would see as anonymous (its own cookie parsing, no session, no user),
whatever the Cookie header looks like; made-up query strings do not multiply stored copies; and
a change to one list or account leaves the other tenants' pages stored.

Every request goes through the application the web server runs: the front (ops.front, which
answers from the cache before Django) over Django's WSGI handler."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from wsgiref.util import setup_testing_defaults

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory

from tests.archive.test_archive import press_release
from tidings.accounts.models import Account
from tidings.archive.actions import archive_post
from tidings.archive.models import Post
from tidings.lib import pagecache
from tidings.lists.actions import create_list
from tidings.lists.models import MailingList
from tidings.ops.front import front

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "Confidential: the talks move to Nairobi"


@cache
def application() -> Callable[..., Iterable[bytes]]:
    """The front over Django's WSGI handler, as tidings.wsgi makes it (once: its middleware is
    loaded once per process, as in a web server's)."""
    return front(WSGIHandler())


def get(path: str, cookie: str | None = None, **headers: str) -> tuple[int, str, dict[str, str]]:
    """One GET through the front and Django, with exactly this Cookie header."""
    path, _, query = path.partition("?")
    environ: dict[str, object] = {"PATH_INFO": path, "QUERY_STRING": query}
    environ["HTTP_HOST"] = "testserver"
    setup_testing_defaults(environ)
    environ["wsgi.input"] = io.BytesIO()
    if cookie is not None:
        environ["HTTP_COOKIE"] = cookie
    environ |= {f"HTTP_{k.upper()}": v for k, v in headers.items()}
    started: list[tuple[str, list[tuple[str, str]]]] = []
    body = b"".join(application()(environ, lambda s, h, *_: started.append((s, h))))
    status, response_headers = started[0]
    return int(status.split()[0]), body.decode(), {k.lower(): v for k, v in response_headers}


def url(post: Post) -> str:
    return f"/lists/{post.mailing_list.name}/{post.slug}/"


def behind_the_cache(post: Post, subject: str) -> None:
    """Change the post as no signal sees it: a page still showing the old subject came from the
    cache."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE archive_post SET subject = %s WHERE id = %s", [subject, post.pk])


@pytest.fixture
def private(account: Account) -> Post:
    """A post in a members-only archive: anonymous readers get 404."""
    board = create_list("board", account=account)
    board.archive_visibility = MailingList.ARCHIVE_MEMBERS
    board.save()
    return archive_post(board, press_release("<board-1@example.org>", body=f"{SECRET}.\n"))


@pytest.fixture
def admin_session(db: None) -> str:
    """The session key of a logged-in operator, who reads every archive."""
    admin = User.objects.create_user("root", "root@example.gov", "pw", is_staff=True)
    client = Client()
    client.force_login(admin)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


# Cookie headers that Python's SimpleCookie reads differently from Django (or not at all), each
# carrying the operator's session as Django reads it.
ODD_HEADERS = {
    "a consent banner's JSON cookie": 'cc_cookie={"categories":["necessary"]}; sessionid={key}',
    "a chunk with no name": "theme; sessionid={key}",
    "a bracket in a value": "prefs=[1,2]; sessionid={key}",
    "a duplicated session cookie": "sessionid=stale; sessionid={key}",
    "a quoted session cookie": 'sessionid="{key}"',
    "spaces around the name": "csrftoken=abc ;  sessionid = {key}",
    "an oversized header": "junk=" + "x" * 8000 + "; sessionid={key}",
    "an unbalanced quote": 'a="b; sessionid={key}',
}


@pytest.mark.parametrize("header", ODD_HEADERS.values(), ids=ODD_HEADERS.keys())
def test_an_odd_cookie_header_never_stores_a_logged_in_page(private, admin_session, header) -> None:  # type: ignore[no-untyped-def]
    cookie = header.replace("{key}", admin_session)

    staff_status, staff_page, _ = get(url(private), cookie)
    anonymous_status, anonymous_page, _ = get(url(private))

    # Django read the session: the operator got the members-only page…
    assert staff_status == 200 and SECRET in staff_page
    # …and it was not stored for everyone.
    assert anonymous_status == 404 and SECRET not in anonymous_page


@pytest.mark.parametrize("header", ODD_HEADERS.values(), ids=ODD_HEADERS.keys())
def test_an_odd_cookie_header_is_never_served_a_stored_page(post, admin_session, header) -> None:  # type: ignore[no-untyped-def]
    assert get(url(post))[0] == 200  # stored for anonymous readers
    behind_the_cache(post, "Rendered for you")

    status, page, _ = get(url(post), header.replace("{key}", admin_session))

    assert status == 200 and "Rendered for you" in page  # rendered for them, not the stored page


@pytest.fixture
def post(wanabidii: MailingList) -> Post:
    return archive_post(wanabidii, press_release())


def test_credentials_or_an_unknown_cookie_get_a_page_rendered_for_them(post) -> None:  # type: ignore[no-untyped-def]
    assert get(url(post))[0] == 200
    behind_the_cache(post, "Rendered for you")

    with_authorization = get(url(post), authorization="Bearer abc")[1]
    with_empty_authorization = get(url(post), authorization="")[1]
    with_messages = get(url(post), "messages=abc")[1]
    anonymous = get(url(post), "csrftoken=" + "a" * 32)[1]

    assert "Rendered for you" in with_authorization
    assert "Rendered for you" in with_empty_authorization
    assert "Rendered for you" in with_messages
    assert "Rendered for you" not in anonymous  # the stored page
    # What they got was not stored either.
    pagecache._recent.clear()
    assert "Rendered for you" not in get(url(post))[1]


def test_a_page_whose_view_starts_a_session_or_finds_a_user_is_not_stored(db) -> None:  # type: ignore[no-untyped-def]
    """Django's session and auth middleware run inside the page cache: what they found or
    started decides, not the request's headers."""
    from django.contrib.auth.middleware import AuthenticationMiddleware
    from django.contrib.sessions.middleware import SessionMiddleware

    user = User.objects.create_user("reader", "reader@example.org", "pw")

    def starts_a_session(request: HttpRequest) -> HttpResponse:
        request.session["seen"] = True
        return HttpResponse("yours")

    def logs_in(request: HttpRequest) -> HttpResponse:
        request.user = user  # as a remote-user or token backend would
        return HttpResponse(f"hello {request.user.get_username()}")

    for view in (starts_a_session, logs_in):
        stack = pagecache.PageCache(
            SessionMiddleware(AuthenticationMiddleware(pagecache.public_page(view)))
        )
        request = RequestFactory().get(f"/{view.__name__}/")
        response = stack(request)
        assert response.status_code == 200
        assert "ETag" not in response  # the mark of a stored page
        assert pagecache.lookup(request.META) is None, view.__name__


def cache_files() -> int:
    return len(list(Path(settings.CACHES["default"]["LOCATION"]).glob("*.djcache")))


def test_made_up_query_strings_do_not_multiply_stored_copies(post) -> None:  # type: ignore[no-untyped-def]
    assert get(url(post))[0] == 200
    before = cache_files()

    for n in range(3 * pagecache.QUERY_VARIANTS):
        status, page, _ = get(f"{url(post)}?utm_source=x{n}")
        assert status == 200 and "Hold Migration Talks" in page

    # At most QUERY_VARIANTS copies of the page, and the note of which they are.
    assert cache_files() - before <= pagecache.QUERY_VARIANTS + 1
    # Pages with a query string of their own are still stored (up to the cap).
    first = f"{url(post)}?utm_source=x0"
    behind_the_cache(post, "Changed quietly")
    assert "Changed quietly" not in get(first)[1]


@pytest.fixture
def second_tenant(other_account: Account) -> Post:
    """Another account's list with a post of its own."""
    baraza = create_list("baraza", account=other_account)
    return archive_post(baraza, press_release("<baraza-1@example.org>"))


def test_a_post_to_one_list_leaves_other_tenants_pages_stored(
    post, second_tenant, wanabidii
) -> None:  # type: ignore[no-untyped-def]
    other_index = f"/lists/{second_tenant.mailing_list.name}/"
    home = "/"
    for path in (url(post), url(second_tenant), other_index, home):
        assert get(path)[0] == 200
    behind_the_cache(second_tenant, "Changed quietly")

    archive_post(wanabidii, press_release("<press-2@example.org>"))

    # The other tenant's pages are still the stored ones: its cache was not emptied…
    assert "Changed quietly" not in get(url(second_tenant))[1]
    assert "Changed quietly" not in get(other_index)[1]
    # …while the list that got the post, and the pages that show every list, are fresh.
    assert get(f"/lists/{wanabidii.name}/")[1].count("Hold Migration Talks") == 2
    behind_the_cache(post, "Seen fresh")
    archive_post(wanabidii, press_release("<press-3@example.org>"))
    assert "Seen fresh" in get(url(post))[1]
    # A change to the other tenant's list reaches its pages.
    second_tenant.mailing_list.description = "New words"
    second_tenant.mailing_list.save()
    assert "Changed quietly" in get(url(second_tenant))[1]


def test_a_change_while_a_page_renders_keeps_it_out_of_the_cache(post, wanabidii, rf) -> None:  # type: ignore[no-untyped-def]
    """A page that says what it shows after its render began, with a change in between, may
    have read half the change: it is not stored."""
    request = rf.get(url(post))
    started = pagecache.generation()
    assert started is not None
    request.public_page_started = started  # as @public_page does
    request.public_page_generation = {pagecache.ANY: started[pagecache.ANY]}

    post.save()  # a change to this very list, between the start and `shows`
    pagecache.shows(request, pagecache.mailing_list(wanabidii.pk))

    assert request.public_page_generation is None


def test_a_bulletin_leaves_other_accounts_pages_stored(  # type: ignore[no-untyped-def]
    account, topic, other_account, second_tenant
) -> None:
    from tidings.bulletins.actions import create_bulletin, publish_bulletin
    from tidings.topics.actions import create_topic

    theirs = create_topic(other_account, name="Notices", code="OTHER_1")
    first = publish_bulletin(
        create_bulletin(other_account, subject="Old", body="Hi.", topics=[theirs])
    )
    web_copy = f"/bulletins/{first.bulletin_id}/"
    their_topic = f"/bulletins/{other_account.code}/{theirs.code}/"
    for path in (web_copy, their_topic, url(second_tenant)):
        assert get(path)[0] == 200, path
    with connection.cursor() as cursor:
        cursor.execute("UPDATE topics_topic SET name = 'Renamed' WHERE id = %s", [theirs.pk])
    behind_the_cache(second_tenant, "Changed quietly")

    publish_bulletin(create_bulletin(account, subject="Ours", body="Hi.", topics=[topic]))

    # Another account's bulletin: this account's pages are still the stored ones.
    assert "Renamed" not in get(web_copy)[1] + get(their_topic)[1]
    assert "Changed quietly" not in get(url(second_tenant))[1]
    # Their own bulletin makes their pages fresh.
    publish_bulletin(create_bulletin(other_account, subject="New", body="Hi.", topics=[theirs]))
    assert "Renamed" in get(their_topic)[1]
    assert "Renamed" in get(web_copy)[1]
