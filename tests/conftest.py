"""Shared personas and the press-release scenario.

alice publishes for the U.S. Department of State; bob subscribes; carol moderates the wanabidii
list; mallory must be refused.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.db import connection

from tidings.accounts.actions import create_account
from tidings.accounts.models import Account
from tidings.lists.actions import add_member, allow_sender, create_list
from tidings.lists.models import MailingList
from tidings.subscribers.actions import subscribe
from tidings.subscribers.models import Subscriber
from tidings.topics.actions import create_topic
from tidings.topics.models import Topic

# A DNS server on loopback for DKIM, SPF and DMARC records (the dns_zone fixture).
pytest_plugins = ["tests.dns_server"]

# The modules whose tests take seconds each: real `tidings` processes, kills, external checkers
# (SpamAssassin, the Nu HTML Checker, axe), property-based API runs, whole corpora. They and
# every browser test are marked slow; `make test-fast` leaves them out.
SLOW_MODULES = {
    "test_processes",
    "test_backup",
    "test_backup_roundtrip",
    "test_errors_loud_web",
    "test_cli",
    "test_crash_safety",
    "test_smtpd_crash",
    "test_secrets_and_files",
    "test_data_safety",
    "test_spamassassin",
    "test_html_checks",
    "test_axe",
    "test_api_schema",
    "test_lists_corpus",
    "test_mbox",
    "test_watch_limits",
    "test_worker_roles",
    "test_worker_outage",
    "test_readme_journeys",
}


# The modules whose subject is not the database: what a page or a message looks like to a
# reader or a checker (SpamAssassin, the Nu HTML Checker, axe, WCAG), the catalogs, and the
# README's journeys through `make demo` (which runs on SQLite). They and every browser test
# are marked one_database and run in the SQLite run only: the PostgreSQL run spends its time
# where the two databases differ. So do the web server's processes (granian, SIGHUP) and the
# data dir's secrets and files.
ONE_DATABASE_MODULES = {
    "test_web_server",
    "test_secrets_and_files",
    "test_spamassassin",
    "test_html_checks",
    "test_axe",
    "test_wcag",
    "test_catalogs",
    "test_rtl",
    "test_readme_journeys",
}


def pytest_configure(config: pytest.Config) -> None:
    """Passwords made and checked in the test processes use a fast hasher: the default one
    costs 0.2 s of CPU a hash by design, and fixtures and logins made it half the time of the
    console's tests. The `tidings` processes tests start keep the real hashers."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        *settings.PASSWORD_HASHERS,
    ]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        module = item.module.__name__.rpartition(".")[2] if item.module else ""
        if module in SLOW_MODULES or item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.slow)
        if module in ONE_DATABASE_MODULES or item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.one_database)


@pytest.fixture
def account(db: None) -> Account:
    return create_account(
        code="USSTATEBPA",
        name="U.S. Department of State",
        sender_address="usstatebpa@tidings.localhost",
        postal_address="2201 C Street NW · Washington, DC 20520",
        time_zone="America/New_York",
    )


@pytest.fixture
def topic(account: Account) -> Topic:
    return create_topic(account, name="Press Releases", code="USSTATEBPA_1")


@pytest.fixture
def bob(account: Account, topic: Topic) -> Subscriber:
    return subscribe(account, "bob@example.org", [topic], confirmed=True)


@pytest.fixture
def wanabidii(account: Account, topic: Topic) -> MailingList:
    """The list of the reference artifact: subscribed to the topic, with two members.

    Its senders need not be authenticated here: the tests of other list behaviour post as the
    accept-listed sender without DKIM. The authentication rule (on by default for announce
    lists) has its own tests, and the press-release chain turns it on.
    """
    mailing_list = create_list("wanabidii", account=account, time_zone="America/New_York")
    mailing_list.require_sender_authentication = False
    mailing_list.save(update_fields=["require_sender_authentication"])
    allow_sender(mailing_list, account.sender_address)
    add_member(mailing_list, "carol@example.net", "Carol")
    add_member(mailing_list, "dave@example.com", "Dave")
    subscribe(account, mailing_list.address, [topic], confirmed=True)
    return mailing_list


@pytest.fixture
def other_account(db: None) -> Account:
    """A second tenant, whose data alice's account must never see."""
    return create_account(
        code="OTHERAGENCY", name="Other Agency", sender_address="other@tidings.localhost"
    )


def _console_user(account: Account, username: str, role: str):  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import User

    from tidings.accounts.models import Membership

    user = User.objects.create_user(username, f"{username}@example.gov", "correct horse 9")
    Membership.objects.create(user=user, account=account, role=role)
    return user


@pytest.fixture
def alice(account: Account):  # type: ignore[no-untyped-def]
    """The State Department's account admin (password "correct horse 9")."""
    return _console_user(account, "alice", "admin")


@pytest.fixture
def erin(account: Account):  # type: ignore[no-untyped-def]
    """An author at the State Department."""
    return _console_user(account, "erin", "author")


@pytest.fixture
def victor(account: Account):  # type: ignore[no-untyped-def]
    """A viewer at the State Department."""
    return _console_user(account, "victor", "viewer")


@pytest.fixture
def oscar(other_account: Account):  # type: ignore[no-untyped-def]
    """The other agency's account admin."""
    return _console_user(other_account, "oscar", "admin")


@pytest.fixture
def page(live_server, settings):  # type: ignore[no-untyped-def]
    """A page in the machine's Chromium (never a downloaded browser), for browser tests."""
    import os
    import shutil

    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls in the test
    # body are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    settings.BASE_URL = live_server.url
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        context = browser.new_context(java_script_enabled=False)
        yield context.new_page()
        context.close()
        browser.close()


@pytest.fixture
def js_page(page):  # type: ignore[no-untyped-def]
    """A page of the same browser with JavaScript on (the console's scripts)."""
    context = page.context.browser.new_context(java_script_enabled=True)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="session", autouse=True)
def _no_database_session_left_behind(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """End any PostgreSQL session still open on the test database (a server thread or child
    process finishing late), so the test database can always be dropped."""
    yield
    # No test database when no test asked for one (a run of only process-level tests).
    if connection.vendor != "postgresql" or not connection.settings_dict["NAME"].startswith(
        "test_"
    ):
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(autouse=True)
def _no_page_from_another_test() -> Iterator[None]:
    """Start each test with no stored public page and no hit waiting (lib.pagecache, the file
    cache in this test process's data dir; tracking.hits)."""
    from django.core.cache import cache

    from tidings.lib import pagecache
    from tidings.tracking import hits

    cache.clear()
    pagecache.forget()
    yield
    if hits._log is not None:  # hits a test left unwritten are dropped with their journal
        for journal in [hits._log.journal] + [j for j, _ in hits._log.pending]:
            journal.map.close()
            os.close(journal.fd)
            journal.path.unlink(missing_ok=True)
        hits._log = None
