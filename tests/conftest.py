"""Shared personas and the press-release scenario.

alice publishes for the U.S. Department of State; bob subscribes; carol moderates the wanabidii
list; mallory must be refused.
"""

from __future__ import annotations

import pytest

from tidings.accounts.actions import create_account
from tidings.accounts.models import Account
from tidings.lists.actions import add_member, allow_sender, create_list
from tidings.lists.models import MailingList
from tidings.subscribers.actions import subscribe
from tidings.subscribers.models import Subscriber
from tidings.topics.actions import create_topic
from tidings.topics.models import Topic


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
    """The list of the reference artifact: subscribed to the topic, with two members."""
    mailing_list = create_list("wanabidii", account=account, time_zone="America/New_York")
    allow_sender(mailing_list, account.sender_address)
    add_member(mailing_list, "carol@example.net", "Carol")
    add_member(mailing_list, "dave@example.com", "Dave")
    subscribe(account, mailing_list.address, [topic], confirmed=True)
    return mailing_list


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
