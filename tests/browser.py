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
