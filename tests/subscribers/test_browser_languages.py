"""Subscribing in Spanish in a real browser (the machine's Chromium, no JavaScript): the pages
follow the browser's language, the mail follows the subscriber's, the footer switches."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser import screenshot
from tests.smtp_helpers import captured_for, text_part, tidings_smtpd
from tests.smtp_helpers import deliver_in_thread as deliver
from tests.subscribers.test_languages import said
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.subscribers.models import Subscriber

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ADDRESS = "ana@example.org"


def first_link(text: str) -> str:
    found = re.search(r"http\S+/confirm/\S+/", text)
    assert found is not None, text
    return found.group(0)


def link_after(text: str, label: str) -> str:
    found = re.search(rf"{re.escape(label)}:?\s*(http\S+)", text)
    assert found is not None, text
    return found.group(1)


def test_a_reader_subscribes_in_spanish_and_gets_spanish_mail(
    page, live_server, settings, account, topic
):  # type: ignore[no-untyped-def]
    context = page.context.browser.new_context(java_script_enabled=False, locale="es-ES")
    spanish = context.new_page()
    with tidings_smtpd(settings):
        spanish.goto(f"{live_server.url}/subscriptions/{account.code}/")
        expect(spanish.locator("html")).to_have_attribute("lang", "es")
        spanish.get_by_label(said("es", "Email address"), exact=True).fill(ADDRESS)
        spanish.get_by_label("Press Releases").check()
        expect(spanish.get_by_label(said("es", "Language of your emails"))).to_have_value("es")
        screenshot(spanish, "languages-1-form-es.png")
        spanish.get_by_role("button", name=said("es", "Subscribe"), exact=True).click()
        expect(spanish.get_by_role("heading", name=said("es", "Check your email"))).to_be_visible()

        deliver()
        (confirmation,) = captured_for(ADDRESS)
        name = account.name
        assert confirmation["Subject"] == said(
            "es", "Confirm your subscription to %(name)s", name=name
        )
        spanish.goto(first_link(text_part(confirmation)))
        spanish.get_by_role("button", name=said("es", "Confirm")).click()
        expect(spanish.get_by_role("heading", name=said("es", "You're subscribed"))).to_be_visible()
        assert Subscriber.objects.get(email=ADDRESS).language == "es"

        publish_bulletin(
            create_bulletin(account, subject="Migration Talks", body="Talks.", topics=[topic])
        )
        deliver()
        _, welcome, bulletin = captured_for(ADDRESS)
        assert welcome["Subject"] == said("es", "Welcome to %(name)s's updates", name=name)
        text = text_part(bulletin)
        manage = link_after(text, said("es", "Manage Subscriptions"))

        # Preferences in Spanish; the subscriber switches to English, pages and mail follow.
        spanish.goto(manage)
        expect(
            spanish.get_by_role("heading", name=said("es", "Manage subscriptions"))
        ).to_be_visible()
        spanish.get_by_label("English").check()
        spanish.get_by_role("button", name=said("es", "Save language")).click()
        expect(spanish.get_by_role("heading", name="Language")).to_be_visible()
        screenshot(spanish, "languages-2-preferences-en.png")
        assert Subscriber.objects.get(email=ADDRESS).language == "en"
    context.close()


def test_the_footer_switches_a_page_to_another_language(page, live_server, account, topic):  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/subscriptions/{account.code}/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("navigation", name="Language").get_by_role("link", name="Kiswahili").click()
    expect(page.locator("html")).to_have_attribute("lang", "sw")
    expect(page.get_by_role("button", name=said("sw", "Subscribe"), exact=True)).to_be_visible()
    # The choice stays for the next page.
    page.goto(f"{live_server.url}/")
    expect(page.locator("html")).to_have_attribute("lang", "sw")
