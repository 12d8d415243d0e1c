"""Confirm before sending, in a real browser: the exact count per topic, then the send."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import log_in
from tidings.bulletins.models import Bulletin
from tidings.subscribers.actions import subscribe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_send_now_shows_who_it_goes_to_and_sends_on_confirmation(
    page, live_server, account, topic, bob, alice
):  # type: ignore[no-untyped-def]
    subscribe(account, "carol@example.org", [topic], confirmed=True)
    log_in(page, live_server, "alice")
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


def test_a_bulletin_goes_to_a_segment_with_its_count_shown_first(
    page, live_server, account, topic, bob, alice
):  # type: ignore[no-untyped-def]
    from tidings.subscribers import audiences
    from tidings.subscribers.models import Question

    press = subscribe(account, "press@example.org", [topic], confirmed=True)
    role = audiences.save_question(account, label="Your role", kind=Question.CHOICE,
                                   choices="Press\nPublic")  # fmt: skip
    audiences.save_answers(press, {role: "Press"})
    audiences.save_segment(account, name="Journalists", topics=[], question=role, values="Press")
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/console/{account.code}/bulletins/new/")
    page.fill("#id_subject", "For the press")
    page.check("label.choice:has-text('Press Releases') input")
    page.select_option("#id_segment", label="Journalists")
    page.fill("#id_body", "Embargoed until noon.")
    page.click("button[value=send]")
    expect(page.get_by_text("To the segment Journalists only.")).to_be_visible()
    expect(page.locator("#recipient-total")).to_have_text("1 subscriber")
    page.click("button:has-text('Send to 1 subscriber')")
    expect(page.locator(".messages")).to_contain_text("on its way")
    bulletin = Bulletin.objects.get()
    assert list(bulletin.sends.get().deliveries.values_list("address", flat=True)) == [press.email]
