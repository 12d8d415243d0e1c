"""Helpers for the browser tests (Playwright in the machine's Chromium)."""

from __future__ import annotations

from typing import Any

# The password tests/conftest.py gives its console users (alice, erin, victor, oscar).
PASSWORD = "correct horse 9"


def log_in(page: Any, live_server: Any, username: str) -> None:
    """Log in to the console as one of the conftest's users."""
    page.goto(f"{live_server.url}/console/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button:has-text('Log in')")


def screenshot(page: Any, name: str, *, full_page: bool = True) -> None:
    """Keep a picture of a step in tests/artifacts (an artifact, not a check): Chromium under
    load sometimes answers "Unable to capture screenshot"; one more try, then the test goes on
    without the picture rather than failing on it."""
    from playwright.sync_api import Error

    from tests.paths import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    path = str(ARTIFACTS / name)
    for attempt in range(2):
        try:
            page.screenshot(path=path, full_page=full_page)
            return
        except Error:
            if attempt == 0:
                page.wait_for_timeout(500)
