"""U+2028 and U+2029 are line breaks too: refused where a value enters, harmless when stored.

The header rule used to check Unicode category Cc only. U+2028 (LINE SEPARATOR) passed it: a
topic name with it failed every message of that topic, a list display name with it made every
post fail routing with a traceback (Python's email refuses it as a line break), and a sender
name with it wrote `Bcc:`-looking text into From.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client

from tests.api.test_api_base import Api, api, api_as  # noqa: F401
from tests.feeds.test_watch_server import FeedServer, running_server
from tests.lists.test_list_relay import POST, deliver
from tests.smtp_helpers import sink_server
from tidings.accounts.models import Account
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.bulletins.models import Bulletin
from tidings.delivery.models import Delivery, Send
from tidings.delivery.worker import process_chunk
from tidings.feeds.models import Watch
from tidings.feeds.poll import poll_watch
from tidings.inbound.models import InboundMessage
from tidings.lists.models import MailingList
from tidings.subscribers.actions import subscribe
from tidings.topics.actions import create_topic
from tidings.topics.models import Topic

LS = "Press\u2028Bcc: everyone@attacker.example"


def _sent() -> list[tuple[str, list[str], bytes]]:
    with sink_server() as sink:
        while process_chunk(sink.relay):
            pass
    return sink.received


def _header_lines(data: bytes) -> list[bytes]:
    """The header section's logical lines (a fold joined to its line)."""
    head = data.split(b"\r\n\r\n", 1)[0]
    return head.replace(b"\r\n ", b" ").replace(b"\r\n\t", b"\t").split(b"\r\n")


@pytest.mark.parametrize("char", ["\u2028", "\u2029", "\u202e", "\ud800"])
def test_the_api_refuses_a_topic_name_with_a_separator(
    api: Api,  # noqa: F811
    topic: Topic,
    char: str,
) -> None:
    response = api.patch(f"/topics/{topic.pk}", {"name": f"Press{char}Releases"})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["name"]
    if char != "\ud800":  # a lone surrogate is refused by the JSON reading already
        assert f"U+{ord(char):04X}" in response.json()["errors"][0]["message"]
    topic.refresh_from_db()
    assert topic.name == "Press Releases"


def test_a_list_display_name_with_a_line_separator_is_a_field_error(wanabidii) -> None:  # type: ignore[no-untyped-def]
    wanabidii.display_name = "News\u2028Bcc: x@example.org"
    with pytest.raises(ValidationError) as refused:
        wanabidii.full_clean()
    assert list(refused.value.message_dict) == ["display_name"]
    assert "LINE SEPARATOR" in refused.value.message_dict["display_name"][0]


def test_the_command_line_refuses_a_display_name_with_a_line_separator(account: Account) -> None:
    with pytest.raises(CommandError, match=r"^display_name: .*U\+2028"):
        call_command("create_list", "news", account=account.code, display_name="News\u2028x")
    assert not MailingList.objects.filter(name="news").exists()


def test_the_console_refuses_a_sender_name_with_a_line_separator(
    client: Client,
    alice,  # type: ignore[no-untyped-def]
    account: Account,
) -> None:
    client.force_login(alice)
    response = client.post(
        f"/console/{account.code}/settings/",
        {
            "name": account.name,
            "postal_address": account.postal_address,
            "time_zone": account.time_zone,
            "language": account.language,
            "sender_name": "State\u2028Bcc: everyone@attacker.example",
            "sender_address": account.sender_address,
            "header_template": account.header_template,
            "footer_template": account.footer_template,
        },
    )
    assert response.status_code == 200
    assert "U+2028 (LINE SEPARATOR)" in response.context["form"].errors["sender_name"][0]
    account.refresh_from_db()
    assert "\u2028" not in account.sender_name


@pytest.mark.django_db(transaction=True)
def test_an_old_topic_name_with_a_line_separator_fails_only_its_own_message(
    account: Account, topic: Topic
) -> None:
    bad = create_topic(account, name="Notices", code="USSTATEBPA_2")
    # A row written before the rule knew U+2028.
    Topic.objects.filter(pk=bad.pk).update(name=LS)
    subscribe(account, "bob@example.org", [topic], confirmed=True)
    subscribe(account, "eve@example.org", [bad], confirmed=True)
    send = publish_bulletin(
        create_bulletin(account, subject="Update", body="Text.", topics=[topic, bad])
    )
    received = _sent()
    states = dict(Delivery.objects.filter(send=send).values_list("address", "state"))
    assert states == {"bob@example.org": Delivery.SENT, "eve@example.org": Delivery.FAILED}
    reply = Delivery.objects.get(send=send, address="eve@example.org").last_reply
    assert "U+2028 (LINE SEPARATOR)" in reply
    assert [rcpts for _, rcpts, _ in received] == [["bob@example.org"]]


@pytest.mark.django_db(transaction=True)
def test_an_old_sender_name_with_a_line_separator_never_reaches_a_from(
    account: Account, topic: Topic
) -> None:
    Account.objects.filter(pk=account.pk).update(sender_name=LS)
    subscribe(account, "bob@example.org", [topic], confirmed=True)
    send = publish_bulletin(create_bulletin(account, subject="Update", body="T.", topics=[topic]))
    assert _sent() == []
    failed = Delivery.objects.get(send=send)
    assert failed.state == Delivery.FAILED
    assert "From header would carry the control character U+2028" in failed.last_reply


def test_an_old_list_display_name_with_a_line_separator_still_relays(wanabidii) -> None:  # type: ignore[no-untyped-def]
    MailingList.objects.filter(pk=wanabidii.pk).update(display_name="News\u2028Bcc: x@example.org")
    message = deliver(POST, wanabidii.address)
    assert message.state == InboundMessage.DONE, message.notes
    data = bytes(Send.objects.get(kind=Send.LIST_POST).message)
    lines = _header_lines(data)
    assert not any(line.startswith(b"Bcc:") for line in lines)
    relayed = message_from_bytes(data, policy=default)
    assert isinstance(relayed, EmailMessage)
    assert relayed["List-Id"].startswith('"News Bcc: x@example.org" <')


def test_a_post_whose_subject_decodes_to_a_line_separator_is_relayed(wanabidii) -> None:  # type: ignore[no-untyped-def]
    raw = POST.replace(
        b"Subject: Re: [wanabidii] Talks",
        b"Subject: =?utf-8?q?Talks=E2=80=A8Bcc:_x@example.org?=",
    )
    message = deliver(raw, wanabidii.address)
    assert message.state == InboundMessage.DONE, message.notes
    data = bytes(Send.objects.get(kind=Send.LIST_POST).message)
    relayed = message_from_bytes(data, policy=default)
    assert relayed["Subject"] == "[wanabidii] Talks Bcc: x@example.org"
    assert not any(line.startswith(b"Bcc:") for line in _header_lines(data))


def _rss(*titles: str) -> bytes:
    """An RSS feed of items whose guid is their position from the oldest."""
    items = "".join(
        f"<item><title>{t}</title><link>https://feeds.test/{n}</link><guid>g{n}</guid></item>"
        for n, t in reversed(list(enumerate(reversed(titles))))
    )
    channel = f"<channel><title>x</title>{items}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'.encode()


@pytest.fixture
def feed_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FeedServer]:
    yield from running_server(monkeypatch)


def test_a_feed_title_is_made_header_safe_not_refused(
    feed_server: FeedServer, topic: Topic
) -> None:
    # An Arabic headline in a right-to-left embedding, with a line separator inside.
    headline = "\u202b\u0623\u062e\u0628\u0627\u0631\u2028Bcc: x@example.org\u202c"
    url = feed_server.serve("/news.xml", _rss("Old"))
    watch = Watch.objects.create(topic=topic, url=url, mode=Watch.DRAFT, kind=Watch.FEED)
    assert poll_watch(watch).primed == 1
    feed_server.serve("/news.xml", _rss(headline, "Old"))
    result = poll_watch(watch)
    assert result.skipped == []
    bulletin = Bulletin.objects.get(feed_items__watch=watch)
    assert bulletin.subject == "\u0623\u062e\u0628\u0627\u0631 Bcc: x@example.org"


def test_the_upgrade_cleans_the_rows_written_before_the_rule(
    account: Account, topic: Topic, wanabidii: MailingList
) -> None:
    from django.apps import apps

    migration = importlib.import_module("tidings.lists.migrations.0011_header_safe_rows")
    untouched = create_topic(account, name="Notices \u200f\u0639\u0631\u0628\u064a", code="X_2")
    Topic.objects.filter(pk=topic.pk).update(name="Press\u2028Releases\u202e")
    Account.objects.filter(pk=account.pk).update(sender_name="State\x1bDept\x85")
    MailingList.objects.filter(pk=wanabidii.pk).update(display_name="\u202bNews\u202c")
    migration.clean(apps, None)
    assert Topic.objects.get(pk=topic.pk).name == "Press Releases"
    assert Account.objects.get(pk=account.pk).sender_name == "State Dept"
    assert MailingList.objects.get(pk=wanabidii.pk).display_name == "News"
    assert Topic.objects.get(pk=untouched.pk).name == "Notices \u200f\u0639\u0631\u0628\u064a"
