"""Joining and leaving a list in a real browser without JavaScript, confirmed by mail."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser import screenshot
from tests.smtp_helpers import captured_for, text_part, tidings_smtpd
from tests.smtp_helpers import deliver_in_thread as deliver
from tidings.lists.models import Member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ADDRESS = "amani@example.org"


def confirm_url(index: int) -> str:
    found = re.search(r"(http\S+/confirm/\S+/)", text_part(captured_for(ADDRESS)[index]))
    assert found is not None
    return found.group(1)


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    screenshot(page, f"list-membership-{name}.png")


def test_a_visitor_joins_and_leaves_from_the_lists_pages(page, live_server, settings, wanabidii):  # type: ignore[no-untyped-def]
    with tidings_smtpd(settings):
        # From the home page to the list's page, and its Join button.
        page.goto(f"{live_server.url}/")
        page.get_by_role("link", name=wanabidii.display_name or wanabidii.name).first.click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(wanabidii.label)
        page.get_by_role("link", name=f"Join {wanabidii.label}").click()
        expect(page).to_have_url(f"{live_server.url}/lists/wanabidii/join/")
        shot(page, "1-join")
        page.fill("#id_email", ADDRESS)
        page.select_option("#id_delivery_mode", "digest")
        page.click("button[type=submit]")
        assert page.locator("h1").inner_text() == "Check your mail"
        deliver()
        page.goto(confirm_url(0))
        shot(page, "2-confirm")
        assert not Member.objects.filter(address=ADDRESS).exists()  # opening is not confirming
        page.click("button[type=submit]")
        assert Member.objects.get(address=ADDRESS).delivery_mode == Member.DIGEST
        deliver()
        page.goto(f"{live_server.url}/lists/wanabidii/leave/")
        page.fill("#id_email", ADDRESS)
        page.click("button[type=submit]")
        deliver()
        page.goto(confirm_url(-1))
        page.click("button[type=submit]")
        shot(page, "3-left")
        assert "left wanabidii@lists.tidings.localhost" in page.locator("main").inner_text()
    assert not Member.objects.filter(address=ADDRESS).exists()
