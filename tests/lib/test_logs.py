"""Structured logs: one JSON object a line, the send and delivery ids on each delivery line."""

from __future__ import annotations

import json
import logging

import pytest

from tests.smtp_helpers import sink_server
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.delivery.worker import process_chunk
from tidings.lib.logs import JsonFormatter
from tidings.subscribers.actions import subscribe


def test_a_line_is_one_json_object_with_the_extra_fields() -> None:
    record = logging.LogRecord("tidings.delivery", logging.WARNING, "x.py", 1,
                               "delivery %s deferred", (7,), None)  # fmt: skip
    record.send, record.delivery = 3, 7
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "delivery 7 deferred"
    assert (line["level"], line["logger"], line["send"], line["delivery"]) == (
        "WARNING", "tidings.delivery", 3, 7,
    )  # fmt: skip
    assert line["time"].endswith("+00:00")


@pytest.mark.django_db(transaction=True)
def test_each_delivery_line_names_its_send_and_delivery(account, topic, caplog) -> None:  # type: ignore[no-untyped-def]
    for name in ("gone", "later"):
        subscribe(account, f"{name}@example.org", [topic], confirmed=True)
    send = publish_bulletin(create_bulletin(account, subject="News", body="Hi.", topics=[topic]))
    caplog.set_level(logging.INFO, logger="tidings.delivery")
    with sink_server() as sink:
        sink.replies["gone@example.org"] = "550 5.1.1 No such user"
        sink.replies["later@example.org"] = "451 4.7.1 Try again later"
        process_chunk(sink.relay)
    lines = [
        json.loads(JsonFormatter().format(r)) for r in caplog.records if hasattr(r, "delivery")
    ]
    assert {line["state"] for line in lines} == {"failed", "deferred"}
    assert all(line["send"] == send.pk for line in lines)
    ids = set(send.deliveries.values_list("id", flat=True))
    assert {line["delivery"] for line in lines} == ids
