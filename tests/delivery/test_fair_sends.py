"""Small mail is never stuck behind bulk: notices first, then the sends served longest ago."""

from __future__ import annotations

import pytest

from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.delivery.actions import send_message
from tidings.delivery.models import Send
from tidings.delivery.notices import notice
from tidings.delivery.worker import claim
from tidings.subscribers.actions import subscribe
from tidings.topics.actions import create_topic

pytestmark = pytest.mark.django_db


@pytest.fixture
def big(account, topic):  # type: ignore[no-untyped-def]
    for n in range(1200):
        subscribe(account, f"reader{n}@example.org", [topic], confirmed=True)
    return publish_bulletin(create_bulletin(account, subject="Big", body="Hi.", topics=[topic]))


def sends_of(rows) -> list[int]:  # type: ignore[no-untyped-def]
    return list(dict.fromkeys(r.send_id for r in rows))


def test_a_notice_goes_first_even_behind_a_large_send(account, big) -> None:  # type: ignore[no-untyped-def]
    assert sends_of(claim(500, 60).rows) == [big.pk]
    confirmation = send_message(
        notice(sender=("State", account.sender_address), to="new@example.org", subject="Confirm",
               text="Please confirm.", kind="confirm"),
        ["new@example.org"],
    )  # fmt: skip
    confirmation.state = Send.SENDING
    confirmation.save(update_fields=["state"])
    rows = claim(500, 60).rows
    assert rows[0].send_id == confirmation.pk  # first in the very next chunk
    assert sends_of(rows) == [confirmation.pk, big.pk]  # the large send fills the rest
    assert len(rows) == 500


def test_a_small_bulletin_waits_at_most_one_chunk_of_a_large_one(account, big) -> None:  # type: ignore[no-untyped-def]
    claim(500, 60)
    other = create_topic(account, name="Travel", code="USSTATEBPA_2")
    for n in range(3):
        subscribe(account, f"traveller{n}@example.org", [other], confirmed=True)
    small = publish_bulletin(create_bulletin(account, subject="Small", body="Hi.", topics=[other]))
    rows = claim(500, 60).rows
    assert [r.address for r in rows if r.send_id == small.pk] == [
        f"traveller{n}@example.org" for n in range(3)
    ]


def test_two_large_sends_take_turns(account, topic, big) -> None:  # type: ignore[no-untyped-def]
    second = publish_bulletin(
        create_bulletin(account, subject="Second", body="Hi.", topics=[topic])
    )
    turns = [sends_of(claim(500, 60).rows) for _ in range(4)]
    assert turns == [[big.pk], [second.pk], [big.pk], [second.pk]]
