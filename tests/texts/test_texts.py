"""Text messages end to end over a real SMPP session: a bulletin, keywords, receipts, faults."""

from __future__ import annotations

import time

import pytest
import smpplib.client
from django.core.exceptions import ValidationError

from tidings.bulletins.actions import create_bulletin, send_bulletin
from tidings.delivery.models import Delivery, Send
from tidings.texts import actions
from tidings.texts.gateways import SmppGateway
from tidings.texts.models import InboundText, Phone, TextPart
from tidings.texts.sender import TextSender, keep_text
from tidings.texts.smsc import HANDSET, handset_text

NUMBER = "+254712345678"


def run(sender: TextSender, rounds: int = 20) -> None:
    """Steps until a round finds nothing to send."""
    for _ in range(rounds):
        if not sender.step():
            return


def handset_says(smsc, number: str, text: str, to: str = "") -> None:  # type: ignore[no-untyped-def]
    """A phone texts the account: a handset session submits, the SMSC delivers it to Tidings."""
    client = smpplib.client.Client("127.0.0.1", smsc.port, allow_unknown_opt_params=True)
    client.connect()
    client.bind_transmitter(system_id=HANDSET, password="")
    for short in handset_text(number.lstrip("+"), to or "12345", text):
        client.send_message(
            source_addr=short.source, destination_addr=short.destination,
            short_message=short.message, data_coding=short.data_coding, esm_class=short.esm_class,
        )  # fmt: skip
        answer = client.read_pdu()
        assert answer.status == 0, answer.status
    client.unbind()
    client.disconnect()


@pytest.fixture
def sender(smsc):  # type: ignore[no-untyped-def]
    made = TextSender(SmppGateway(smsc.url, on_text=keep_text), idle=0.2)
    yield made
    made.close()


def test_numbers_are_stored_in_e164_and_bad_ones_refused_with_the_reason(settings) -> None:
    settings.PHONE_REGION = "KE"
    assert actions.normalize_number("0712 345 678") == NUMBER
    assert actions.normalize_number("+1 (202) 555-0143") == "+12025550143"
    with pytest.raises(ValidationError, match="not a phone number"):
        actions.normalize_number("call me")
    with pytest.raises(ValidationError, match="not a valid"):
        actions.normalize_number("+254 12")


def test_a_bulletin_goes_by_text_to_confirmed_numbers_with_receipts(
    smsc, sender, account, topic
) -> None:  # type: ignore[no-untyped-def]
    confirmed = actions.subscribe_number(account, NUMBER, [topic], source=Phone.CONSOLE)
    actions.subscribe_number(account, "+254722000111", [topic])  # web: waits for YES
    bulletin = create_bulletin(account, subject="Embassy closed Monday", body="x", topics=[topic])
    bulletin.text = "Embassy closed Monday. " + "Details follow. " * 12  # two segments
    bulletin.save()
    send_bulletin(bulletin)

    run(sender)
    time.sleep(0.3)
    sender.step()  # the receipts

    text_send = Send.objects.get(bulletin=bulletin, channel=Send.TEXT)
    rows = list(text_send.deliveries.all())
    assert [(r.address, r.state) for r in rows] == [(confirmed.number, Delivery.SENT)]
    # The pending number got only its confirmation request, never the bulletin.
    got = smsc.texts()
    assert ("254712345678", bulletin.text.strip()) in got
    assert next(t for d, t in got if d == "254722000111").startswith(f"{account.name}: reply YES")
    assert TextPart.objects.filter(delivery_id=rows[0].pk).count() == 2
    assert set(
        TextPart.objects.filter(delivery_id=rows[0].pk).values_list("receipt", flat=True)
    ) == {"DELIVRD"}
    assert Send.objects.get(pk=text_send.pk).state == Send.DONE


def test_an_undeliverable_receipt_fails_the_row_with_the_reason(
    smsc, sender, account, topic
) -> None:  # type: ignore[no-untyped-def]
    actions.subscribe_number(account, NUMBER, [topic], source=Phone.CONSOLE)
    smsc.smsc.undeliverable.add(NUMBER.lstrip("+"))
    send_bulletin(create_bulletin(account, subject="Notice", body="x", topics=[topic]))
    run(sender)
    time.sleep(0.3)
    sender.step()
    row = Delivery.objects.get(send__channel=Send.TEXT, send__kind=Send.BULLETIN)
    assert row.state == Delivery.FAILED
    assert "UNDELIV" in row.last_reply


def test_a_refused_number_fails_and_a_throttled_one_waits(smsc, sender, account, topic) -> None:  # type: ignore[no-untyped-def]
    actions.subscribe_number(account, NUMBER, [topic], source=Phone.CONSOLE)
    actions.subscribe_number(account, "+254722000111", [topic], source=Phone.CONSOLE)
    smsc.smsc.refuse[NUMBER.lstrip("+")] = 0x0B  # invalid destination
    smsc.smsc.refuse["254722000111"] = 0x58  # throttled
    send_bulletin(create_bulletin(account, subject="Notice", body="x", topics=[topic]))
    run(sender)
    rows = {r.address: r for r in Delivery.objects.filter(send__channel=Send.TEXT)}
    assert rows[NUMBER].state == Delivery.FAILED and "0x0b" in rows[NUMBER].last_reply
    assert rows["+254722000111"].state == Delivery.DEFERRED
    assert rows["+254722000111"].attempts == 1


def test_stop_from_a_phone_stops_its_texts_and_is_confirmed(smsc, sender, account, topic) -> None:  # type: ignore[no-untyped-def]
    phone = actions.subscribe_number(account, NUMBER, [topic], source=Phone.CONSOLE)
    sender.gateway.connect()
    handset_says(smsc, NUMBER, "Stop")
    sender.gateway.poll(0.5)
    run(sender)

    phone.refresh_from_db()
    assert phone.status == Phone.STOPPED
    inbound = InboundText.objects.get()
    assert (inbound.action, inbound.account_id) == ("stop", account.pk)
    assert smsc.texts()[-1] == ("254712345678", inbound.reply)
    assert "no more texts" in inbound.reply

    send_bulletin(create_bulletin(account, subject="After stop", body="x", topics=[topic]))
    run(sender)
    assert not Send.objects.filter(channel=Send.TEXT, kind=Send.BULLETIN).exists()


def test_a_topic_keyword_subscribes_and_help_answers(smsc, sender, account, topic) -> None:  # type: ignore[no-untyped-def]
    actions.set_keyword(topic, "alerts")
    sender.gateway.connect()
    handset_says(smsc, NUMBER, "ALERTS")
    handset_says(smsc, NUMBER, "help")
    sender.gateway.poll(0.5)
    run(sender)

    phone = Phone.objects.get(number=NUMBER)
    assert phone.status == Phone.CONFIRMED
    assert list(phone.topics.all()) == [topic]
    replies = [t for d, t in smsc.texts() if d == "254712345678"]
    assert topic.name in replies[0] and "STOP" in replies[0]
    assert replies[1].startswith(f"{account.name}:") and "STOP" in replies[1]


def test_a_keyword_may_not_be_stop_or_taken(account, topic) -> None:
    with pytest.raises(ValidationError, match="can't be a keyword"):
        actions.set_keyword(topic, "stop")
    actions.set_keyword(topic, "news")
    other = topic.__class__.objects.create(account=account, name="Other", code="other")
    with pytest.raises(ValidationError, match="another topic"):
        actions.set_keyword(other, "NEWS")


def test_a_gateway_that_is_down_costs_no_attempt(account, topic) -> None:
    actions.subscribe_number(account, NUMBER, [topic], source=Phone.CONSOLE)
    send_bulletin(create_bulletin(account, subject="Notice", body="x", topics=[topic]))
    sender = TextSender(SmppGateway("smpp://tidings@127.0.0.1:9"), idle=0.1)
    sender.step()
    row = Delivery.objects.get(send__channel=Send.TEXT)
    assert (row.state, row.attempts) == (Delivery.DEFERRED, 0)
    assert "unreachable" in row.last_reply


def test_a_text_send_is_paused_resumed_and_shown_beside_the_email_send(
    smsc, sender, client, alice, account, topic
) -> None:  # type: ignore[no-untyped-def]
    from django.urls import reverse

    from tidings.delivery.actions import pause_send, resume_send

    actions.subscribe_number(account, NUMBER, [topic], source=Phone.CONSOLE)
    bulletin = create_bulletin(account, subject="Paused", body="x", topics=[topic])
    send_bulletin(bulletin)
    text_send = Send.objects.get(channel=Send.TEXT, kind=Send.BULLETIN)
    pause_send(text_send)
    run(sender)
    assert text_send.deliveries.get().state == Delivery.QUEUED  # paused: nothing claimed
    resume_send(text_send)
    run(sender)
    assert text_send.deliveries.get().state == Delivery.SENT

    client.force_login(alice)
    page = client.get(
        reverse("console:bulletin", args=[account.code, bulletin.pk])
    ).content.decode()
    assert "By text" in page and "1 of 1 numbers sent" in page
    send_page = client.get(reverse("delivery:send", args=[account.code, text_send.pk]))
    assert send_page.status_code == 200


def test_a_batch_of_receipts_costs_a_few_statements_whatever_its_size(
    account, topic, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    send = Send.objects.create(kind=Send.BULLETIN, channel=Send.TEXT, state=Send.SENDING)
    rows = Delivery.objects.bulk_create(
        Delivery(send=send, address=f"+2547{i:08d}", state=Delivery.SENT) for i in range(300)
    )
    TextPart.objects.bulk_create(TextPart(message_id=f"m{r.pk}", delivery_id=r.pk) for r in rows)
    receipts = [
        (f"m{r.pk}", "DELIVRD" if i % 3 else "UNDELIV", "err:001") for i, r in enumerate(rows)
    ]
    receipts.append(("unknown", "DELIVRD", ""))
    with django_assert_max_num_queries(10):
        assert actions.record_receipts(receipts) == 300
    assert Delivery.objects.filter(send=send, state=Delivery.FAILED).count() == 100
    assert TextPart.objects.filter(receipt="DELIVRD").count() == 200
