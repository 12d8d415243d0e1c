"""The HTTP gateway, against a loopback HTTP server in the style of the common SMS APIs, and
its webhooks (texts from phones, status callbacks)."""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse

from tidings.bulletins.actions import create_bulletin, send_bulletin
from tidings.delivery.models import Delivery, Send
from tidings.texts import actions
from tidings.texts.gateways import HttpGateway, hook_token
from tidings.texts.models import Phone, TextPart
from tidings.texts.sender import TextSender

NUMBER = "+254712345678"


class Api(BaseHTTPRequestHandler):
    received: list[dict[str, str]] = []
    refuse: set[str] = set()

    def do_POST(self) -> None:
        size = int(self.headers["Content-Length"])
        form = dict(urllib.parse.parse_qsl(self.rfile.read(size).decode()))
        form["auth"] = self.headers.get("Authorization", "")
        Api.received.append(form)
        if form["To"] in Api.refuse:
            status, answer = 400, {"message": "The 'To' number is not a valid phone number."}
        else:
            status, answer = 201, {"sid": f"SM{len(Api.received)}", "status": "queued"}
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def api() -> Iterator[str]:
    Api.received, Api.refuse = [], set()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://AC123:secret@127.0.0.1:{server.server_address[1]}/Messages.json?from=%2B15550001"
    server.shutdown()


def test_texts_go_through_an_http_gateway_and_its_callbacks_update_the_ledger(
    api, client, account, topic
) -> None:  # type: ignore[no-untyped-def]
    actions.subscribe_number(account, NUMBER, [topic], source=Phone.CONSOLE)
    actions.subscribe_number(account, "+254722000111", [topic], source=Phone.CONSOLE)
    Api.refuse.add("+254722000111")
    bulletin = create_bulletin(account, subject="Office hours", body="x", topics=[topic])
    send_bulletin(bulletin)

    sender = TextSender(HttpGateway(api), idle=0.1)
    sender.step()
    sender.close()

    posted = {form["To"]: form for form in Api.received}
    assert posted[NUMBER]["Body"].startswith(f"{account.name}: Office hours http")
    assert posted[NUMBER]["From"] == "+15550001"
    assert posted[NUMBER]["auth"] == "Basic QUMxMjM6c2VjcmV0"
    assert posted[NUMBER]["StatusCallback"].endswith(f"/texts/hooks/{hook_token()}/status/")
    rows = {r.address: r for r in Delivery.objects.filter(send__channel=Send.TEXT)}
    assert rows[NUMBER].state == Delivery.SENT
    assert rows["+254722000111"].state == Delivery.FAILED
    assert "not a valid phone number" in rows["+254722000111"].last_reply
    sid = TextPart.objects.get(delivery_id=rows[NUMBER].pk).message_id

    status_url = reverse("texting:hook_status", args=[hook_token()])
    answer = client.post(
        status_url, {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    )
    assert answer.json() == {"known": True}
    row = Delivery.objects.get(pk=rows[NUMBER].pk)
    assert row.state == Delivery.FAILED and "UNDELIVERED" in row.last_reply

    assert (
        client.post(
            reverse("texting:hook_status", args=["forged"]),
            {"MessageSid": sid, "MessageStatus": "delivered"},
        ).status_code
        == 404
    )


def test_a_text_from_a_phone_arrives_by_webhook(client, account, topic) -> None:  # type: ignore[no-untyped-def]
    actions.set_keyword(topic, "NEWS")
    url = reverse("texting:hook_inbound", args=[hook_token()])
    answer = client.post(url, {"From": NUMBER, "To": "+15550001", "Body": "news"})
    assert answer.json() == {"action": "subscribe"}
    phone = Phone.objects.get(number=NUMBER)
    assert phone.status == Phone.CONFIRMED and list(phone.topics.all()) == [topic]
    reply = Delivery.objects.get(address=NUMBER, send__kind=Send.NOTICE)
    assert "Reply STOP" in bytes(reply.send.message).decode()
    assert client.post(url, {"To": "+1"}).status_code == 400
