"""`tidings doctor` names what is unsafe in production, and is quiet when nothing is."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command


def doctor() -> tuple[int, list[str]]:
    out = io.StringIO()
    code = 0
    try:
        call_command("doctor", "--json", stdout=out)
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    return code, json.loads(out.getvalue())["warnings"]


def test_the_demo_settings_are_warned_about(settings) -> None:  # type: ignore[no-untyped-def]
    settings.BASE_URL, settings.DEBUG, settings.SMTP_RELAY = "http://127.0.0.1:8000", True, ""
    code, found = doctor()
    assert code == 1
    text = " ".join(found)
    for what in ("TIDINGS_BASE_URL", "TIDINGS_DEBUG", "TIDINGS_SMTP_RELAY", "No DKIM key"):
        assert what in text


def test_a_production_configuration_passes(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "key.pem").write_text("a key")
    (tmp_path / "cert.pem").write_text("a certificate")
    settings.BASE_URL, settings.DEBUG = "https://news.example.gov", False
    settings.SMTP_RELAY = "smtp+starttls://relay.example.gov:587"
    settings.DKIM_KEY_FILE, settings.SMTP_TLS_CERT = (
        str(tmp_path / "key.pem"),
        str(tmp_path / "cert.pem"),
    )
    settings.MAIL_DOMAIN = "news.example.gov"
    assert doctor() == (0, [])


@pytest.mark.parametrize("base", ["http://news.example.gov", "http://127.0.0.1:8000"])
def test_an_http_base_url_is_named(settings, base) -> None:  # type: ignore[no-untyped-def]
    settings.BASE_URL = base
    assert any(base in w for w in doctor()[1])
