"""The composer's Markdown toolbar and live preview, in a real browser with JavaScript on."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_toolbar_formats_and_the_preview_shows_it_sanitized(
    js_page, live_server, account, topic, erin
):  # type: ignore[no-untyped-def]
    js = js_page
    log_in(js, live_server, "erin")
    js.goto(f"{live_server.url}/console/{account.code}/bulletins/new/")
    expect(js.locator(".md-toolbar")).to_be_visible()
    js.fill("#id_body", "Migration talks")
    js.locator("#id_body").evaluate("b => b.setSelectionRange(0, 9)")
    js.click(".md-toolbar button[data-md=bold]")
    expect(js.locator("#id_body")).to_have_value("**Migration** talks")
    expect(js.locator("#live-preview strong")).to_have_text("Migration")
    js.fill("#id_body", "Hi <script>alert(1)</script><img src=x onerror=alert(2)>")
    expect(js.locator("#live-preview")).to_contain_text("Hi")
    assert js.locator("#live-preview script").count() == 0
    assert "onerror" not in js.locator("#live-preview").inner_html()
