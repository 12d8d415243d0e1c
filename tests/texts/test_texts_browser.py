"""The composer's text message field in a real browser: the live count of segments, and the
text saved with the draft."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import log_in
from tidings.bulletins.models import Bulletin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_composer_counts_a_texts_segments_as_it_is_typed(
    js_page, live_server, account, topic, erin
):  # type: ignore[no-untyped-def]
    js = js_page
    log_in(js, live_server, "erin")
    js.goto(f"{live_server.url}/console/{account.code}/bulletins/new/")
    counter = js.locator("#text-segments")
    expect(counter).to_contain_text("No text written")
    js.fill("#id_text", "a" * 161)
    expect(counter).to_have_text("161 characters, 2 segments (GSM-7).")
    js.fill("#id_text", "Habari za leo 😀")
    expect(counter).to_have_text("16 characters, 1 segment (UCS-2).")
    js.fill("#id_subject", "Texted title")
    js.check("label.choice:has-text('Press Releases') input")
    js.fill("#id_body", "Body.")
    js.click("button[value=save]")
    expect(js.locator("#text-segments")).to_have_text("16 characters, 1 segment (UCS-2).")
    assert Bulletin.objects.get().text == "Habari za leo 😀"
