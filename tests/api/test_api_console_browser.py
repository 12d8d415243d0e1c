"""The console's API tokens page in the machine's Chromium: create a token, use it, revoke it."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from tests.browser import screenshot
from tidings.accounts.models import Account


@pytest.mark.browser
def test_an_admin_creates_uses_and_revokes_a_token(
    page, live_server, alice, account: Account
) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/console/login/?next=/console/USSTATEBPA/tokens/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "correct horse 9")
    page.click("button[type=submit]")
    page.fill("#id_name", "website CMS")
    page.select_option("#id_role", "author")
    page.click("text=Create token")
    secret = page.inner_text("#new-secret").strip()
    screenshot(page, "api-tokens-created.png")

    headers = {"Authorization": f"Bearer {secret}"}
    answer = requests.get(f"{live_server.url}/api/v1/account", headers=headers, timeout=10)
    assert answer.json()["role"] == "author"

    page.click("text=Revoke website CMS")
    expect(page.get_by_role("heading", name="Revoke the token website CMS?")).to_be_visible()
    page.click("button:has-text('Revoke website CMS')")  # it asked first
    expect(page.locator("table")).to_contain_text("revoked")
    assert secret not in page.content()
    screenshot(page, "api-tokens-revoked.png")
    answer = requests.get(f"{live_server.url}/api/v1/account", headers=headers, timeout=10)
    assert answer.status_code == 401
