"""What `tidings doctor` warns about: settings that are fine for a demo and unsafe in production."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings


def warnings() -> list[str]:
    found = []
    if not settings.BASE_URL.startswith("https://"):
        found.append(
            f"TIDINGS_BASE_URL is {settings.BASE_URL}: links in mail and the one-click "
            "unsubscribe go over plain HTTP; use an https:// address behind TLS."
        )
    if settings.DEBUG:
        found.append("TIDINGS_DEBUG is on: error pages show settings and code to anyone.")
    if not settings.SMTP_RELAY:
        found.append(
            "TIDINGS_SMTP_RELAY is empty: mail for other domains is kept in the captured outbox, "
            "never delivered."
        )
    keys = settings.DKIM_KEY_FILE or (
        settings.DKIM_KEY_DIR
        and Path(settings.DKIM_KEY_DIR).is_dir()
        and any(Path(settings.DKIM_KEY_DIR).glob("*.pem"))
    )
    if not keys:
        found.append(
            "No DKIM key (TIDINGS_DKIM_KEY_FILE or TIDINGS_DKIM_KEY_DIR): mail goes out unsigned "
            "and fails DMARC at most receivers."
        )
    if not settings.SMTP_TLS_CERT:
        found.append(
            "No TLS certificate for the SMTP server (TIDINGS_SMTP_TLS_CERT): mail to the lists "
            "comes in the clear."
        )
    if "localhost" in settings.MAIL_DOMAIN:
        found.append(f"TIDINGS_MAIL_DOMAIN is {settings.MAIL_DOMAIN}: use a domain you own.")
    return found
