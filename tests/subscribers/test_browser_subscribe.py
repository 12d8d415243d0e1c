"""A subscriber in a real browser, without JavaScript: subscribe → confirm → digest → leave."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser import screenshot
from tests.conftest import _console_user
from tests.smtp_helpers import captured_for, text_part, tidings_smtpd
from tests.smtp_helpers import deliver_in_thread as deliver
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.subscribers.models import Subscriber
from tidings.topics.actions import create_topic
from tidings.topics.models import Category

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ADDRESS = "amani@example.org"


def link(text: str, label: str) -> str:
    found = re.search(rf"{label}:?\s*\n*\s*(http\S+)", text)
    assert found is not None, text
    return found.group(1)


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    screenshot(page, f"subscribe-{name}.png")


def test_it_takes_a_subscriber_from_the_form_to_unsubscribed(
    page, live_server, settings, account, topic
):  # type: ignore[no-untyped-def]
    news = Category.objects.create(account=account, name="News")
    topic.categories.add(news)
    create_topic(account, name="Travel Advisories", code="USSTATEBPA_2")
    with tidings_smtpd(settings):
        page.goto(f"{live_server.url}/subscriptions/{account.code}/")
        shot(page, "1-form")
        page.get_by_label("Email address").fill(ADDRESS)
        page.get_by_label("Press Releases").check()
        page.get_by_role("button", name="Subscribe").click()
        expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
        shot(page, "2-check-your-email")

        deliver()
        (confirmation,) = captured_for(ADDRESS)
        page.goto(link(text_part(confirmation), "press Confirm[^\n]*"))
        shot(page, "3-confirm")
        assert Subscriber.objects.get(email=ADDRESS).status == Subscriber.PENDING
        page.get_by_role("button", name="Confirm").click()
        expect(page.get_by_role("heading", name="You're subscribed")).to_be_visible()
        shot(page, "4-confirmed")

        bulletin = create_bulletin(
            account, subject="Migration Talks", body="The talks went well.", topics=[topic]
        )
        publish_bulletin(bulletin)
        deliver()
        _, welcome, bulletin_mail = captured_for(ADDRESS)
        assert welcome["Subject"].startswith("Welcome to")
        text = text_part(bulletin_mail)

        page.goto(link(text, "Manage Subscriptions"))
        page.get_by_label("Daily digest").check()
        page.get_by_role("button", name="Save delivery").click()
        expect(page.get_by_text("Delivery saved: Daily digest.")).to_be_visible()
        shot(page, "5-daily-digest")
        assert Subscriber.objects.get(email=ADDRESS).delivery_mode == Subscriber.DAILY

        page.goto(link(text, "Unsubscribe"))
        shot(page, "6-unsubscribe")
        page.get_by_role("button", name="Unsubscribe from everything").click()
        expect(page.get_by_role("heading", name="Unsubscribed")).to_be_visible()
        shot(page, "7-unsubscribed")
    assert Subscriber.objects.get(email=ADDRESS).status == Subscriber.UNSUBSCRIBED


def test_it_subscribes_from_the_signup_form_on_another_site(
    page, live_server, settings, account, topic, tmp_path
):  # type: ignore[no-untyped-def]
    from django.test import Client

    staff = _console_user(account, "vera", "viewer")
    client = Client()
    client.force_login(staff)
    snippet = client.get(f"/console/{account.code}/signup-form/").context["snippet"]
    agency_page = tmp_path / "agency.html"  # another origin: a file, with no cookie of ours
    agency_page.write_text(f"<!doctype html><title>Agency</title><h1>Agency</h1>{snippet}")
    page.goto(agency_page.as_uri())
    shot(page, "8-embedded-form")
    page.get_by_label("Email address").fill(ADDRESS)
    page.get_by_label("Press Releases").check()
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    shot(page, "9-embedded-check-your-email")
    assert Subscriber.objects.get(email=ADDRESS).status == Subscriber.PENDING
    assert not topic.subscriptions.exists()


def test_it_shows_an_import_progressing_without_javascript(
    page, live_server, settings, account, topic, tmp_path
):  # type: ignore[no-untyped-def]
    settings.DATA_DIR = tmp_path
    _console_user(account, "tina", "topic_admin")
    csv_file = tmp_path / "people.csv"
    csv_file.write_text("email\nann@example.org\nnot an address\n")
    page.goto(f"{live_server.url}/console/login/")
    page.get_by_label("Username").fill("tina")
    page.get_by_label("Password").fill("correct horse 9")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/console/{account.code}/subscribers/imports/")
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_label("Press Releases").check()
    page.get_by_label("They already agreed: subscribe them now").check()
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("Queued: waiting for a worker.")).to_be_visible()
    shot(page, "10-import-queued")
    deliver()  # the worker's periodic job runs the import
    page.wait_for_selector("text=Download the error report", timeout=10_000)  # meta refresh
    shot(page, "11-import-done")
    assert Subscriber.objects.get(email="ann@example.org").status == Subscriber.CONFIRMED
