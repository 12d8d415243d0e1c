"""Addresses a relay can't take as they are: punycode for IDN domains, SMTPUTF8 or fail alone."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default

import pytest

from tests.smtp_helpers import sink_server
from tidings.accounts.models import Account
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.delivery.models import Delivery, Send
from tidings.delivery.worker import process_chunk
from tidings.subscribers.models import Subscriber, Subscription
from tidings.topics.models import Topic

pytestmark = pytest.mark.django_db(transaction=True)


def _subscribed(account: Account, topic: Topic, *emails: str) -> None:
    # Straight into the table: the CSV importer (email-validator) takes such addresses.
    for email in emails:
        subscriber = Subscriber.objects.create(
            account=account, email=email, status=Subscriber.CONFIRMED
        )
        Subscription.objects.create(subscriber=subscriber, topic=topic)


def _send_all(account: Account, topic: Topic, **sink_options: bool) -> tuple[Send, list]:  # type: ignore[type-arg]
    send = publish_bulletin(create_bulletin(account, subject="News", body="Hi.", topics=[topic]))
    with sink_server(**sink_options) as sink:
        while process_chunk(sink.relay):
            pass
    return send, sink.received


@pytest.mark.parametrize("pipelining", [False, True])
def test_an_internationalized_domain_goes_out_as_punycode(
    account: Account, topic: Topic, pipelining: bool
) -> None:
    _subscribed(account, topic, "anna@bücher.example", "bob@example.org")
    send, received = _send_all(account, topic, pipelining=pipelining)

    assert set(Delivery.objects.filter(send=send).values_list("state", flat=True)) == {"sent"}
    by_rcpt = {rcpts[0]: data for _, rcpts, data in received}
    assert set(by_rcpt) == {"anna@xn--bcher-kva.example", "bob@example.org"}
    message = message_from_bytes(by_rcpt["anna@xn--bcher-kva.example"], policy=default)
    assert message["To"] == "anna@xn--bcher-kva.example"


@pytest.mark.parametrize("pipelining", [False, True])
def test_a_non_ascii_local_part_fails_alone_without_smtputf8(
    account: Account, topic: Topic, pipelining: bool
) -> None:
    _subscribed(account, topic, "amy@example.org", "jörg@example.org", "bob@example.org")
    send, received = _send_all(account, topic, pipelining=pipelining)

    rows = {r.address: r for r in Delivery.objects.filter(send=send)}
    assert rows["jörg@example.org"].state == Delivery.FAILED
    assert "SMTPUTF8" in rows["jörg@example.org"].last_reply
    assert rows["amy@example.org"].state == rows["bob@example.org"].state == Delivery.SENT
    assert sorted(rcpts[0] for _, rcpts, _ in received) == ["amy@example.org", "bob@example.org"]
    send.refresh_from_db()
    assert send.state == Send.DONE


def test_a_non_ascii_local_part_goes_out_when_the_relay_offers_smtputf8(
    account: Account, topic: Topic
) -> None:
    _subscribed(account, topic, "jörg@bücher.example")
    send, received = _send_all(account, topic, smtputf8=True)

    assert Delivery.objects.get(send=send).state == Delivery.SENT
    ((_, rcpts, data),) = received
    assert rcpts == ["jörg@xn--bcher-kva.example"]
    assert message_from_bytes(data, policy=default)["To"] == "jörg@xn--bcher-kva.example"
