from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

import pytest
from django.utils import timezone

from tests.smtp_helpers import free_port, sink_server
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.bulletins.models import Bulletin
from tidings.delivery.actions import send_message
from tidings.delivery.models import Delivery, Send
from tidings.delivery.smtp import Relay
from tidings.delivery.worker import process_chunk
from tidings.subscribers.actions import unsubscribe_all

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sink():  # type: ignore[no-untyped-def]
    with sink_server() as handler:
        yield handler


@pytest.fixture
def send(account, topic, bob):  # type: ignore[no-untyped-def]
    bulletin = create_bulletin(account, subject="Notice", body="Body text.", topics=[topic])
    return publish_bulletin(bulletin)


def test_it_sends_and_records_the_relay_reply(sink, send):  # type: ignore[no-untyped-def]
    assert process_chunk(sink.relay) == 1

    row = Delivery.objects.get(send=send)
    assert row.state == Delivery.SENT
    assert "queued as ABC123" in row.last_reply
    ((mail_from, rcpts, data),) = sink.received
    assert rcpts == ["bob@example.org"]
    assert mail_from.startswith(f"bounce+{row.pk}.")
    assert row.message_id.encode() in data


def test_it_finishes_the_send_and_the_bulletin(sink, send):  # type: ignore[no-untyped-def]
    process_chunk(sink.relay)
    process_chunk(sink.relay)

    send.refresh_from_db()
    assert send.state == Send.DONE
    assert Bulletin.objects.get(pk=send.bulletin_id).status == Bulletin.SENT


def test_it_fails_a_permanent_refusal_with_the_reply(sink, send):  # type: ignore[no-untyped-def]
    sink.replies["bob@example.org"] = "550 5.1.1 No such user"
    process_chunk(sink.relay)

    row = Delivery.objects.get(send=send)
    assert row.state == Delivery.FAILED
    assert row.last_reply == "550 5.1.1 No such user"


def test_it_defers_a_temporary_refusal_with_backoff(sink, send):  # type: ignore[no-untyped-def]
    sink.replies["bob@example.org"] = "451 4.3.0 Try later"
    process_chunk(sink.relay)

    row = Delivery.objects.get(send=send)
    assert row.state == Delivery.DEFERRED
    assert row.attempts == 1
    assert row.next_attempt_at > timezone.now()
    assert process_chunk(sink.relay) == 0  # not due yet


def test_it_defers_when_the_relay_is_down(send):  # type: ignore[no-untyped-def]
    process_chunk(Relay("127.0.0.1", free_port(), start_tls=False))

    row = Delivery.objects.get(send=send)
    assert row.state == Delivery.DEFERRED
    assert "connection failed" in row.last_reply


def test_it_takes_back_rows_whose_lease_expired(sink, send):  # type: ignore[no-untyped-def]
    Delivery.objects.filter(send=send).update(
        state=Delivery.SENDING, lease_until=timezone.now() - timedelta(seconds=1)
    )
    process_chunk(sink.relay)
    assert Delivery.objects.get(send=send).state == Delivery.SENT


def test_it_leaves_a_live_lease_alone(sink, send):  # type: ignore[no-untyped-def]
    Delivery.objects.filter(send=send).update(
        state=Delivery.SENDING, lease_until=timezone.now() + timedelta(minutes=5)
    )
    assert process_chunk(sink.relay) == 0
    assert sink.received == []


def test_it_sends_nothing_to_someone_who_left_after_the_snapshot(sink, send, bob):  # type: ignore[no-untyped-def]
    unsubscribe_all(bob)
    process_chunk(sink.relay)

    assert Delivery.objects.get(send=send).state == Delivery.CANCELLED
    assert sink.received == []


def test_it_sends_a_queued_notice_as_is(sink, account):  # type: ignore[no-untyped-def]
    msg = EmailMessage()
    msg["From"] = "tidings@tidings.localhost"
    msg["Subject"] = "Please confirm"
    msg["Message-ID"] = "<notice1@tidings.localhost>"
    msg.set_content("Confirm here.")
    send_message(msg, ["x@example.org", "x@example.org", "y@example.org"])
    process_chunk(sink.relay)

    assert sorted(r for _, (r,), _ in sink.received) == ["x@example.org", "y@example.org"]
    assert all(b"Confirm here." in data for _, _, data in sink.received)


def test_a_first_attempt_is_leased_by_range_and_written_once(send):  # type: ignore[no-untyped-def]
    from tidings.delivery.models import Lease
    from tidings.delivery.worker import claim

    claimed = claim(100, 60)

    assert [r.address for r in claimed.rows] == ["bob@example.org"]
    # The row itself is untouched until its outcome is known; the lease covers its range.
    assert Delivery.objects.get(send=send).state == Delivery.QUEUED
    (lease,) = Lease.objects.filter(pk__in=claimed.leases)
    assert lease.first_id == lease.last_id == claimed.rows[0].id
    assert claim(100, 60).rows == []  # nobody else gets it


def test_it_takes_back_a_range_whose_worker_died(sink, send):  # type: ignore[no-untyped-def]
    from tidings.delivery.models import Lease
    from tidings.delivery.worker import claim

    claim(100, 60)  # a worker claims the row, then dies
    Lease.objects.update(lease_until=timezone.now() - timedelta(seconds=1))

    assert process_chunk(sink.relay) == 1
    assert Delivery.objects.get(send=send).state == Delivery.SENT
    assert not Lease.objects.exists()


def test_it_leaves_a_live_range_alone(sink, send):  # type: ignore[no-untyped-def]
    from tidings.delivery.worker import claim

    claim(100, 60)
    assert process_chunk(sink.relay) == 0
    assert sink.received == []


def test_it_gives_up_on_a_temporary_refusal_after_the_maximum_age(sink, send, settings):  # type: ignore[no-untyped-def]
    settings.DELIVERY_MAX_AGE_SECONDS = 3600
    Send.objects.filter(pk=send.pk).update(created=timezone.now() - timedelta(hours=2))
    sink.replies["bob@example.org"] = "451 4.3.0 Try later"
    process_chunk(sink.relay)

    row = Delivery.objects.get(send=send)
    assert row.state == Delivery.FAILED
    assert row.last_reply.startswith("451 4.3.0 Try later")
    assert "gave up" in row.last_reply


def test_a_row_cancelled_while_on_the_wire_is_recorded_as_sent(sink, send):  # type: ignore[no-untyped-def]
    from tidings.delivery.actions import cancel_send
    from tidings.delivery.worker import Composers, claim_and_prepare, record

    chunk = claim_and_prepare(100, 60, Composers())
    assert cancel_send(send) == 1  # the row was still queued: leased by range
    from tidings.delivery.smtp import Outcome

    (outgoing,) = chunk.outgoing
    record(chunk, [Outcome(outgoing.key, 250, "2.0.0 queued")])
    assert Delivery.objects.get(send=send).state == Delivery.SENT
