"""No value becomes a mail header by accident: refused at every door, and by the writer itself.

A CR or LF in a topic name, a sender name or a list's display name used to start new headers
(`Bcc:`) in every message carrying it, or crash the worker that wrote the message.
"""

from __future__ import annotations

import pytest
from django.test import Client

from tests.api.test_api_base import Api, api, api_as  # noqa: F401
from tests.ops.test_processes import env, tidings  # noqa: F401
from tests.smtp_helpers import sink_server
from tidings.accounts.models import Account
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.delivery import mime
from tidings.delivery.models import Delivery
from tidings.delivery.worker import process_chunk
from tidings.lib.headers import HeaderValueError
from tidings.subscribers.actions import subscribe
from tidings.topics.actions import create_topic
from tidings.topics.models import Topic

INJECTED = "Press Releases\r\nBcc: everyone@attacker.example"


def test_the_api_refuses_a_topic_name_with_a_line_break(api: Api, topic: Topic) -> None:  # noqa: F811
    response = api.patch(f"/topics/{topic.pk}", {"name": INJECTED})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["name"]
    topic.refresh_from_db()
    assert topic.name == "Press Releases"


@pytest.mark.parametrize("char", ["\n", "\r", "\x00", "\x1b", "\x85"])
def test_the_api_refuses_control_characters_in_a_bulletin_subject(
    api: Api,  # noqa: F811
    topic: Topic,
    char: str,
) -> None:
    response = api.post(
        "/bulletins", {"subject": f"Hello{char}World", "body": "x", "topics": [topic.pk]}
    )
    assert response.status_code == 422
    assert "subject" in [e["field"] for e in response.json()["errors"]]


def test_the_api_refuses_a_list_display_name_with_a_line_break(api: Api) -> None:  # noqa: F811
    response = api.post("/lists", {"name": "news", "display_name": "News\nBcc: x@example.org"})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["display_name"]


def test_the_console_refuses_a_sender_name_with_a_line_break(
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
            "sender_name": "State\r\nBcc: everyone@attacker.example",
            "sender_address": account.sender_address,
            "header_template": account.header_template,
            "footer_template": account.footer_template,
        },
    )
    assert response.status_code == 200
    assert "control characters" in response.context["form"].errors["sender_name"][0]
    account.refresh_from_db()
    assert "\n" not in account.sender_name


def test_the_command_line_names_the_field(env) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    tidings(env, "migrate", "--verbosity", "0")
    tidings(env, "create-account", "--code", "CITY", "--name", "City",
            "--sender-address", "news@tidings.localhost")  # fmt: skip
    result = tidings(env, "create-topic", "--account", "CITY", "--name", INJECTED, check=False)
    assert result.returncode != 0
    assert "name:" in result.stderr
    assert "control characters" in result.stderr


def test_the_header_writer_refuses_a_line_break_itself() -> None:
    with pytest.raises(HeaderValueError, match="Subject"):
        mime.header_lines([("Subject", INJECTED)])
    # The per-recipient holes are the only control characters it lets through.
    assert mime.header_lines([("To", mime.hole("recipient"))])


@pytest.mark.django_db(transaction=True)
def test_a_message_that_cannot_be_written_fails_alone(account: Account, topic: Topic) -> None:
    bad = create_topic(account, name="Notices", code="USSTATEBPA_2")
    # A value that slipped in before validation existed (or past it): written straight in.
    Topic.objects.filter(pk=bad.pk).update(name=INJECTED)
    subscribe(account, "bob@example.org", [topic], confirmed=True)
    subscribe(account, "eve@example.org", [bad], confirmed=True)
    subscribe(account, "fay@example.org", [topic], confirmed=True)
    send = publish_bulletin(
        create_bulletin(account, subject="Update", body="Text.", topics=[topic, bad])
    )
    with sink_server() as sink:
        while process_chunk(sink.relay):
            pass
    states = dict(Delivery.objects.filter(send=send).values_list("address", "state"))
    assert states == {
        "bob@example.org": Delivery.SENT,
        "eve@example.org": Delivery.FAILED,
        "fay@example.org": Delivery.SENT,
    }
    failed = Delivery.objects.get(send=send, address="eve@example.org")
    assert "could not be written" in failed.last_reply
    assert "header would carry the control character U+000D" in failed.last_reply
    assert sorted(r for _, rcpts, _ in sink.received for r in rcpts) == [
        "bob@example.org",
        "fay@example.org",
    ]
    assert all(b"attacker" not in data for _, _, data in sink.received)
    send.refresh_from_db()
    assert send.state == send.DONE
