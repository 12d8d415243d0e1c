"""A reader in a real browser, without JavaScript: archive index → post → comment."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_archive import press_release
from tidings.archive.actions import archive_post

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(__file__).parent / "artifacts"


def test_it_lets_a_reader_comment_on_a_post(page, live_server, wanabidii):  # type: ignore[no-untyped-def]
    archive_post(wanabidii, press_release())
    page.goto(f"{live_server.url}/lists/wanabidii/")
    assert page.get_by_role("heading", name="Tuesday, 1 December 2015").is_visible()
    page.get_by_role("link", name="United States and Cuba Hold Migration Talks").first.click()
    page.get_by_label("Name").fill("Juma")
    page.get_by_label("Email").fill("juma@example.org")
    page.get_by_label("Comment").fill("Asante sana.")
    page.get_by_role("button", name="Publish").click()
    page.screenshot(path=str(ARTIFACTS / "archive-post-with-comment.png"), full_page=True)
    assert page.get_by_text("Asante sana.").is_visible()
    assert "juma@example.org" not in page.content()
