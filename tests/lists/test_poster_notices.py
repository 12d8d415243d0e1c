"""A poster whose post is held is told why, in plain words, and again when it is approved."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default

from tests.lists.test_lists_moderation import held, spam
from tidings.delivery.models import Send
from tidings.lists.actions import approve_post
from tidings.lists.models import ListMessage, MailingList
from tidings.lists.poster import POSTER_NOTICES_PER_DAY, tell_held


def told(address: str) -> list[str]:
    """The subjects and bodies of the notices queued for an address, oldest first."""
    found = []
    for send in Send.objects.filter(kind=Send.NOTICE, deliveries__address=address).order_by("pk"):
        msg = message_from_bytes(bytes(send.message or b""), policy=default)
        body = msg.get_body(preferencelist=("plain",))
        found.append(f"{msg['Subject']}\n{body.get_content() if body else ''}")
    return found


def test_a_held_poster_is_told_why_in_plain_words_and_then_of_the_approval(wanabidii) -> None:  # type: ignore[no-untyped-def]
    record = held(spam())
    [waiting] = told("mallory@example.com")
    assert "is waiting for a moderator" in waiting
    assert "This is an announcement list: only its publishers post." in waiting  # announce-only
    approve_post(record)
    approved = told("mallory@example.com")[-1]
    assert "was approved" in approved and "has gone to the list" in approved


def test_no_notice_to_robots_or_for_what_looks_like_spam(wanabidii) -> None:  # type: ignore[no-untyped-def]
    held(spam(1, extra="Auto-Submitted: auto-generated\r\n"))
    assert told("mallory@example.com") == []
    record = held(spam(2))
    ListMessage.objects.filter(pk=record.pk).update(rule="suspicious-header")
    record.refresh_from_db()
    sent = Send.objects.count()
    assert tell_held(record, None) is False
    assert Send.objects.count() == sent


def test_a_poster_gets_a_few_hold_notices_a_day_at_most(wanabidii) -> None:  # type: ignore[no-untyped-def]
    MailingList.objects.filter(pk=wanabidii.pk).update(posting_policy=MailingList.MODERATED)
    for n in range(POSTER_NOTICES_PER_DAY + 3):
        held(spam(n))
    assert len(told("mallory@example.com")) == POSTER_NOTICES_PER_DAY
