"""One bad item never stalls the others: a bulletin that can't be written fails on its own."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tests.api.test_api_base import Api, api, api_as  # noqa: F401
from tidings.accounts.models import Account
from tidings.bulletins.actions import create_bulletin, publish_due, schedule_bulletin
from tidings.bulletins.models import Bulletin
from tidings.delivery.models import Send
from tidings.subscribers.actions import subscribe
from tidings.topics.actions import create_topic
from tidings.topics.models import Topic

BROKEN = "State\r\nBcc: everyone@attacker.example"


def _break_sender_name(account: Account) -> None:
    # Written straight to the table, as a value saved before validation existed would be.
    Account.objects.filter(pk=account.pk).update(sender_name=BROKEN)


def test_one_unpublishable_bulletin_does_not_hold_back_another_accounts(
    account: Account, topic: Topic, other_account: Account
) -> None:
    theirs = create_topic(other_account, name="Their news", code="OTHER_1")
    subscribe(account, "bob@example.org", [topic], confirmed=True)
    subscribe(other_account, "amy@example.org", [theirs], confirmed=True)
    soon = timezone.now() + timedelta(minutes=1)
    bad = create_bulletin(account, subject="Broken", body="x", topics=[topic])
    good = create_bulletin(other_account, subject="Fine", body="y", topics=[theirs])
    schedule_bulletin(bad, soon)
    schedule_bulletin(good, soon + timedelta(seconds=1))
    _break_sender_name(account)

    assert publish_due(now=soon + timedelta(minutes=1)) == 1

    good.refresh_from_db()
    bad.refresh_from_db()
    assert good.status == Bulletin.SENDING
    assert Send.objects.filter(bulletin=good).count() == 1
    # Back to a draft, with the reason for its author, and not tried again every cycle.
    assert bad.status == Bulletin.DRAFT
    assert "could not be written" in bad.publish_error
    assert not Send.objects.filter(bulletin=bad).exists()
    assert publish_due(now=soon + timedelta(minutes=2)) == 0


def test_the_send_endpoint_answers_why_instead_of_a_500(api: Api, account: Account, topic) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    subscribe(account, "bob@example.org", [topic], confirmed=True)
    draft = create_bulletin(account, subject="Broken", body="x", topics=[topic])
    _break_sender_name(account)

    response = api.post(f"/bulletins/{draft.pk}/send")

    assert response.status_code == 422
    assert "could not be written" in response.json()["detail"]
    draft.refresh_from_db()
    assert draft.status == Bulletin.DRAFT
    assert not Send.objects.filter(bulletin=draft).exists()


def test_the_console_shows_why_a_scheduled_bulletin_was_not_sent(  # type: ignore[no-untyped-def]
    client, alice, account: Account, topic: Topic
) -> None:
    soon = timezone.now() + timedelta(minutes=1)
    bad = create_bulletin(account, subject="Broken", body="x", topics=[topic])
    schedule_bulletin(bad, soon)
    _break_sender_name(account)
    publish_due(now=soon + timedelta(minutes=1))

    client.force_login(alice)
    page = client.get(f"/console/{account.code}/bulletins/{bad.pk}/").content.decode()
    assert "Not sent at its scheduled time" in page
    assert "control character U+000D" in page
