"""What the relay says decides each recipient's fate, with and without pipelining."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.smtp_helpers import sink_server
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.delivery.models import Delivery
from tidings.delivery.worker import process_chunk
from tidings.subscribers.actions import subscribe
from tidings.subscribers.models import BounceEvent, Suppression

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(params=[True, False], ids=["pipelining", "one-by-one"])
def sink(request):  # type: ignore[no-untyped-def]
    with sink_server(pipelining=request.param) as handler:
        yield handler


@pytest.fixture
def send(account, topic):  # type: ignore[no-untyped-def]
    for n in range(6):
        subscribe(account, f"r{n}@example.org", [topic], confirmed=True)
    bulletin = create_bulletin(account, subject="Notice", body="Body text.", topics=[topic])
    return publish_bulletin(bulletin)


def states() -> dict[str, tuple[str, str]]:
    return {d.address: (d.state, d.last_reply) for d in Delivery.objects.all()}


def message_ids(data: bytes) -> list[str]:
    return re.findall(rb"^Message-ID: (<[^>]+>)", data, re.MULTILINE)  # type: ignore[return-value]


def test_it_defers_4xx_fails_5xx_and_sends_the_rest(sink, send):  # type: ignore[no-untyped-def]
    sink.replies["r1@example.org"] = "451 4.7.1 Greylisted, try again"
    sink.replies["r2@example.org"] = "550 5.1.1 No such user"
    process_chunk(sink.relay)

    result = states()
    assert result["r1@example.org"] == ("deferred", "451 4.7.1 Greylisted, try again")
    assert result["r2@example.org"] == ("failed", "550 5.1.1 No such user")
    sent = sorted(a for a, (state, _) in result.items() if state == "sent")
    assert sent == ["r0@example.org", "r3@example.org", "r4@example.org", "r5@example.org"]
    assert sorted(sink.recipients()) == sent


def test_it_retries_a_message_cut_off_after_data_with_the_same_message_id(sink, send):  # type: ignore[no-untyped-def]
    sink.drop_once.add("r3@example.org")
    process_chunk(sink.relay)
    assert states()["r3@example.org"][0] == "deferred"
    assert Delivery.objects.filter(state="sent").count() == 5  # the others went on

    Delivery.objects.filter(address="r3@example.org").update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    process_chunk(sink.relay)

    assert states()["r3@example.org"][0] == "sent"
    copies = [data for _, rcpts, data in sink.received if rcpts == ["r3@example.org"]]
    assert len(copies) == 2
    assert message_ids(copies[0]) == message_ids(copies[1])


def test_it_sends_each_recipient_once_over_few_connections(settings, sink, account, topic):  # type: ignore[no-untyped-def]
    settings.SMTP_CONNECTIONS = 3
    for n in range(120):
        subscribe(account, f"many{n}@example.org", [topic], confirmed=True)
    publish_bulletin(create_bulletin(account, subject="T", body="B", topics=[topic]))
    settings.DELIVERY_CHUNK_SIZE = 200
    process_chunk(sink.relay)

    assert sorted(sink.recipients()) == sorted(f"many{n}@example.org" for n in range(120))
    assert Delivery.objects.filter(state="sent").count() == 120


def test_it_holds_back_mail_over_a_domain_rate_limit_without_costing_an_attempt(
    settings, sink, account, topic
):  # type: ignore[no-untyped-def]
    settings.RATE_LIMITS = "slow.example=2"
    for n in range(5):
        subscribe(account, f"s{n}@slow.example", [topic], confirmed=True)
    publish_bulletin(create_bulletin(account, subject="T", body="B", topics=[topic]))
    process_chunk(sink.relay)

    slow = Delivery.objects.filter(address__endswith="@slow.example")
    assert slow.filter(state="sent").count() == 2
    held = slow.filter(state="throttled")  # shown apart from deferred: nothing went wrong
    assert held.count() == 3
    assert {d.attempts for d in held} == {0}
    assert not slow.filter(state="deferred").exists()


def test_a_relay_that_is_down_costs_the_rows_no_attempt(send):  # type: ignore[no-untyped-def]
    from tests.smtp_helpers import free_port
    from tidings.delivery.smtp import Relay

    process_chunk(Relay("127.0.0.1", free_port(), start_tls=False))  # nothing listens there

    rows = Delivery.objects.all()
    assert {d.state for d in rows} == {"deferred"}
    assert {d.attempts for d in rows} == {0}  # never offered: connecting failed
    assert all(d.last_reply.startswith("not tried:") for d in rows[3:])


def test_a_flaky_relay_counts_an_attempt_only_for_what_was_on_the_wire(sink, send):  # type: ignore[no-untyped-def]
    # Three sessions in a row cut after DATA: the relay looks down, the rest wait for it.
    cut = {"r0@example.org", "r1@example.org", "r2@example.org"}
    sink.drop_once |= cut
    before = timezone.now()
    process_chunk(sink.relay)

    attempts = {d.address: d.attempts for d in Delivery.objects.all()}
    # A row another connection delivered before the third cut was on the wire too (under load the
    # sessions interleave differently): one attempt, sent. Every other row cost nothing.
    delivered = set(sink.recipients()) - cut
    assert attempts == {
        f"r{n}@example.org": 1 if n < 3 or f"r{n}@example.org" in delivered else 0 for n in range(6)
    }
    assert {d.address for d in Delivery.objects.filter(state="sent")} == delivered
    waiting = Delivery.objects.filter(attempts=0)
    assert waiting.exists()
    assert {d.state for d in waiting} == {"deferred"}
    # They wait for the relay's backoff (seconds), not a row's own (minutes, doubling).
    assert all(d.next_attempt_at < before + timedelta(seconds=30) for d in waiting)


def test_it_records_a_refusal_and_suppresses_only_a_bad_address(sink, send):  # type: ignore[no-untyped-def]
    sink.replies["r2@example.org"] = "550 5.1.1 No such user"
    sink.replies["r4@example.org"] = "554 5.7.1 Message refused as spam"
    process_chunk(sink.relay)

    events = {e.email: e.decision for e in BounceEvent.objects.all()}
    assert events == {"r2@example.org": "suppressed", "r4@example.org": "nothing"}
    assert list(Suppression.objects.values_list("email", flat=True)) == ["r2@example.org"]
