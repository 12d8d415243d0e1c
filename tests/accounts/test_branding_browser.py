"""Brand an account in the console and see it on the subscribe page and in the mail."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.accounts.test_branding import PNG
from tests.browser import log_in
from tidings.accounts.models import Account
from tidings.bulletins.actions import create_bulletin
from tidings.bulletins.email import BulletinRenderer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_brands_the_account_and_readers_see_it(
    page, live_server, settings, tmp_path, account, topic, alice
):  # type: ignore[no-untyped-def]
    settings.DATA_DIR = tmp_path
    settings.BASE_URL = live_server.url
    (tmp_path / "seal.png").write_bytes(PNG)
    log_in(page, live_server, "alice")
    page.click("nav.console >> text=Media library")
    page.set_input_files("#id_image", str(tmp_path / "seal.png"))
    page.click("button:has-text('Upload')")
    expect(page.locator(".messages")).to_contain_text("seal.png is in the library")

    page.click("nav.console a:text-is('Settings')")
    page.select_option("#id_logo", label="seal.png")
    page.fill("#id_brand_color", "#b31942")
    page.click("button:has-text('Save settings')")
    expect(page.locator(".messages")).to_contain_text("Settings saved")

    page.goto(f"{live_server.url}/subscriptions/{account.code}/")
    logo = page.locator("header.site img.logo")
    expect(logo).to_be_visible()
    assert logo.evaluate("img => img.naturalWidth") == 2  # the image itself loads
    expect(page.locator("header.site")).to_contain_text(account.name)
    border = page.locator("header.site").evaluate("e => getComputedStyle(e).borderTopColor")
    assert border == "rgb(179, 25, 66)"

    account = Account.objects.get(pk=account.pk)
    bulletin = create_bulletin(account, subject="Branded", body="Body.", topics=[topic])
    _, _, html = BulletinRenderer(bulletin)._parts(topic, "bob@example.org", {})
    assert f"{live_server.url}/media/{account.logo.filename}" in html
