"""The archive shows a bulletin as its readers saw it, and its feeds do not change by
themselves."""

from __future__ import annotations

import re
import time

import pytest
from django.test import Client

from tests.smtp_helpers import tidings_smtpd
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.lists.actions import create_list
from tidings.ops.worker import drain


@pytest.mark.django_db(transaction=True)
def test_a_relayed_markdown_bulletin_is_shown_from_its_html(  # type: ignore[no-untyped-def]
    settings, client: Client, account, topic, wanabidii
):
    body = (
        "The talks were **productive**.\n\n![The seal](https://www.state.gov/seal.png)\n\n"
        "See [the release](https://www.state.gov/r)."
    )
    with tidings_smtpd(settings):
        publish_bulletin(create_bulletin(account, subject="Talks", body=body, topics=[topic]))
        drain()
    index = client.get("/lists/wanabidii/").content.decode()
    link = re.search(r'href="(/lists/wanabidii/[0-9a-f]{8,}[^"]*/)"', index)
    assert link is not None, index[:3000]
    page = client.get(link.group(1)).content.decode()
    assert "<strong>productive</strong>" in page
    assert "**productive**" not in page
    assert '<a href="https://www.state.gov/r"' in page
    assert "![The seal]" not in page


@pytest.mark.django_db
def test_an_atom_feed_is_the_same_twice_when_nothing_changed(client: Client, account) -> None:  # type: ignore[no-untyped-def]
    create_list("quiet", account=account)
    first = client.get("/lists/quiet/feed/").content
    time.sleep(1.1)
    second = client.get("/lists/quiet/feed/").content
    updated = re.findall(rb"<updated>([^<]+)</updated>", first)
    assert updated and updated == re.findall(rb"<updated>([^<]+)</updated>", second)
