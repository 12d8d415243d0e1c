"""The console's menu by task, and a phone's width (390 px) with nothing overflowing."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_menu_is_grouped_by_task_and_fits_a_phone(page, live_server, account, topic, alice):  # type: ignore[no-untyped-def]
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server, "alice")
    # One account: log-in lands on it.
    expect(page.locator("h1")).to_contain_text("U.S. Department of State")
    groups = page.locator("nav.console .group-name")
    expect(groups).to_have_text(
        ["Publish", "Audience", "Lists", "Automation", "Insights", "Settings"]
    )
    for path in ("", "bulletins/new/", "subscribers/", "texts/", "sends/", "settings/"):
        page.goto(f"{live_server.url}/console/{account.code}/{path}")
        width = page.locator("html").evaluate("e => e.scrollWidth")
        assert width <= 390, (path, width)
