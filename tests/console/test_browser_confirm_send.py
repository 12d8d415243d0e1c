"""Confirm before sending, in a real browser: the exact count per topic, then the send."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tidings.bulletins.models import Bulletin
from tidings.subscribers.actions import subscribe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_send_now_shows_who_it_goes_to_and_sends_on_confirmation(
    page, live_server, account, topic, bob, alice
):  # type: ignore[no-untyped-def]
    subscribe(account, "carol@example.org", [topic], confirmed=True)
    page.goto(f"{live_server.url}/console/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "correct horse 9")
    page.click("button:has-text('Log in')")
    page.goto(f"{live_server.url}/console/{account.code}/bulletins/new/")
    page.fill("#id_subject", "Confirmed before sending")
    page.check("label.choice:has-text('Press Releases') input")
    page.fill("#id_body", "Body.")
    page.click("button[value=send]")
    expect(page.locator("#recipient-total")).to_have_text("2 subscribers")
    expect(page.locator("table.counts")).to_contain_text("Press Releases")
    assert Bulletin.objects.get().status == Bulletin.DRAFT
    page.click("button:has-text('Send to 2 subscribers')")
    expect(page.locator(".messages")).to_contain_text("on its way")
    assert Bulletin.objects.get().status == Bulletin.SENDING
