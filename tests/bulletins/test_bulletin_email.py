from __future__ import annotations

from datetime import datetime
from email import message_from_bytes
from email.policy import default
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from tidings.bulletins.actions import create_bulletin
from tidings.bulletins.email import BulletinRenderer, format_published

PUBLISHED = datetime(2015, 12, 1, 12, 38, tzinfo=ZoneInfo("America/New_York"))


@pytest.fixture
def bulletin(account, topic):  # type: ignore[no-untyped-def]
    b = create_bulletin(
        account,
        subject="United States & Cuba Hold Migration Talks",
        body=(
            "Media Note\nOffice of the Spokesperson\n\n"
            "The talks were **productive**.\n\n<script>x</script>"
        ),
        topics=[topic],
    )
    b.published_at = PUBLISHED
    return b


def render(bulletin, topic, bob):  # type: ignore[no-untyped-def]
    msg = BulletinRenderer(bulletin).message_for(
        topic=topic, recipient=bob.email, subscriber_id=bob.pk, message_id="<m1@tidings.localhost>"
    )
    parsed = message_from_bytes(msg.as_bytes(), policy=default)
    return parsed


def test_it_formats_the_publication_time_in_the_account_zone(bulletin):  # type: ignore[no-untyped-def]
    assert format_published(bulletin) == "12/01/2015 12:38 PM EST"
    # As each language writes dates (Swahili's formats are Tidings' own: Django has none).
    assert format_published(bulletin, "es") == "1 de diciembre de 2015 a las 12:38 EST"
    assert format_published(bulletin, "sw") == "1 Disemba 2015, 12:38 EST"


def test_it_builds_a_multipart_alternative_with_list_headers(bulletin, topic, bob):  # type: ignore[no-untyped-def]
    msg = render(bulletin, topic, bob)
    assert msg.get_content_type() == "multipart/alternative"
    assert msg["Subject"] == "Press Releases: United States & Cuba Hold Migration Talks"
    assert msg["From"].addresses[0].display_name == "U.S. Department of State"
    assert msg["From"].addresses[0].addr_spec == "usstatebpa@tidings.localhost"
    assert msg["Message-ID"] == "<m1@tidings.localhost>"
    # Date: is when it is sent; the back-dated publication time is in the body only.
    assert abs((msg["Date"].datetime - timezone.now()).total_seconds()) < 120
    assert msg["List-Id"] == '"Press Releases" <usstatebpa-1.tidings.localhost>'
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    https, mailto = [v.strip(" <>") for v in msg["List-Unsubscribe"].split(",")]
    assert https.startswith("http://127.0.0.1:8000/subscriptions/one-click/")
    assert mailto.startswith(f"mailto:unsubscribe+{bob.pk}.")


def test_it_fills_header_time_body_and_footer_into_both_parts(bulletin, topic, bob):  # type: ignore[no-untyped-def]
    msg = render(bulletin, topic, bob)
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    header = "You are subscribed to Press Releases for U.S. Department of State."
    footer = "This email was sent to bob@example.org using Tidings, on behalf of: U.S. Department"
    for part in (text, html):
        assert header in part
        assert "12/01/2015 12:38 PM EST" in part
        assert footer in part
        assert "Manage Subscriptions" in part
    # The text part reads as text: no Markdown syntax.
    assert "The talks were productive." in text
    assert "**" not in text
    assert "<strong>productive</strong>" in html
    assert "<script>" not in html
    assert "United States &amp; Cuba" in html


def test_it_links_to_pages_that_work(client, bulletin, topic, bob):  # type: ignore[no-untyped-def]
    msg = render(bulletin, topic, bob)
    text = msg.get_body(("plain",)).get_content()
    manage = next(line for line in text.splitlines() if line.startswith("Manage Subscriptions: "))
    unsubscribe = next(line for line in text.splitlines() if line.startswith("Unsubscribe: "))
    for line in (manage, unsubscribe):
        path = line.split(": ", 1)[1].removeprefix("http://127.0.0.1:8000")
        assert client.get(path).status_code == 200


HEADERS = ("From", "To", "Subject", "Date", "Message-ID", "List-Id", "List-Unsubscribe",
           "List-Unsubscribe-Post")  # fmt: skip


def decoded(raw: bytes) -> dict[str, object]:
    msg = message_from_bytes(raw, policy=default)
    return {
        "headers": {k: str(msg[k]) for k in HEADERS},
        "text": msg.get_body(("plain",)).get_content().replace("\r\n", "\n"),
        "html": msg.get_body(("html",)).get_content().replace("\r\n", "\n"),
        "defects": [d for part in msg.walk() for d in part.defects],
    }  # fmt: skip


@pytest.mark.parametrize("recipient", ["bob@example.org", "o'brien&co@example.org"])
def test_it_fills_the_once_rendered_template_exactly_like_a_full_build(
    account, topic, bulletin, recipient, monkeypatch
):  # type: ignore[no-untyped-def]
    # Both builds sign the subscriber's links: stop the clock, so they sign the same second.
    monkeypatch.setattr("tidings.lib.tokens.time", SimpleNamespace(time=lambda: 1_700_000_000))
    bulletin.subject = "Réunion à Genève: “quotes” & more"
    bulletin.body += (
        "\n\n" + "A very long paragraph without breaks. " * 60 + "\n\n.leading dot line"
        "\n\nSee [the talks](https://www.state.gov/talks?a=1&b=2) and https://www.state.gov/talks?a=1&b=2."
    )
    renderer = BulletinRenderer(bulletin)
    reference = renderer.message_for(
        topic=topic,
        recipient=recipient,
        subscriber_id=77,
        message_id="<m7@tidings.localhost>",
        delivery_id=4321,
    )
    filled = renderer.render(
        topic=topic,
        recipient=recipient,
        subscriber_id=77,
        message_id="<m7@tidings.localhost>",
        delivery_id=4321,
    )

    assert decoded(filled) == decoded(reference.as_bytes())
    # Both carry the tracking: the body's link redirected, the open image added.
    parts = decoded(filled)
    assert 'href="http://127.0.0.1:8000/t/c/4321-' in parts["html"]  # type: ignore[operator]
    # The open image: a background, since the bulletin has no picture of its own.
    assert "url('http://127.0.0.1:8000/t/o/4321-" in parts["html"]  # type: ignore[operator]
    assert 'href="https://www.state.gov' not in parts["html"]  # type: ignore[operator]
    assert "https://www.state.gov" not in parts["text"]  # type: ignore[operator]
    assert decoded(filled)["defects"] == []
    assert max(len(line) for line in filled.split(b"\r\n")) <= 998
    body = filled.split(b"\r\n\r\n", 1)[1]
    assert all(len(line) <= 76 for line in body.split(b"\r\n"))
    assert not any(line.startswith(b".") for line in filled.split(b"\r\n"))  # no dot-stuffing
