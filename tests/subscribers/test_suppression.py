"""The suppression list: per account and global; no send reaches a suppressed address."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client

from tidings.accounts.actions import create_account
from tidings.accounts.models import Account
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.subscribers import actions
from tidings.subscribers.models import Subscriber, Suppression
from tidings.topics.models import Topic


def recipients(account: Account, topic: Topic) -> set[str]:
    bulletin = create_bulletin(account, subject="News", body="Body", topics=[topic])
    send = publish_bulletin(bulletin)
    return set(send.deliveries.values_list("address", flat=True))


@pytest.fixture
def ann(account: Account, topic: Topic) -> Subscriber:
    return actions.subscribe(account, "ann@example.org", [topic], confirmed=True)


def test_it_leaves_out_a_globally_suppressed_address(
    account: Account, topic: Topic, bob: Subscriber, ann: Subscriber
) -> None:
    actions.suppress(None, "bob@example.org", Suppression.HARD_BOUNCE)
    assert recipients(account, topic) == {"ann@example.org"}


def test_it_leaves_out_an_address_suppressed_for_the_account(
    account: Account, topic: Topic, bob: Subscriber, ann: Subscriber
) -> None:
    actions.suppress(account, "bob@example.org")
    assert recipients(account, topic) == {"ann@example.org"}


def test_it_still_sends_to_an_address_suppressed_for_another_account(
    account: Account, topic: Topic, bob: Subscriber
) -> None:
    other = create_account(code="OTHER", name="Other", sender_address="o@tidings.localhost")
    actions.suppress(other, "bob@example.org")
    assert recipients(account, topic) == {"bob@example.org"}


def test_it_leaves_out_digest_subscribers(
    account: Account, topic: Topic, bob: Subscriber, ann: Subscriber
) -> None:
    actions.set_delivery_mode(ann, Subscriber.WEEKLY)
    assert recipients(account, topic) == {"bob@example.org"}


def test_it_sends_again_once_unsuppressed(account: Account, topic: Topic, bob: Subscriber) -> None:
    actions.unsuppress(actions.suppress(account, "bob@example.org"))
    assert recipients(account, topic) == {"bob@example.org"}


def test_it_suppresses_once_however_often_asked(account: Account) -> None:
    first = actions.suppress(account, "bob@example.org")
    second = actions.suppress(account, "bob@example.org", Suppression.COMPLAINT)
    assert first.pk == second.pk
    assert Suppression.objects.count() == 1


def test_it_refuses_a_bad_address(account: Account) -> None:
    with pytest.raises(ValidationError):
        actions.suppress(account, "nobody")


def test_it_lets_staff_add_and_remove_in_the_admin(account: Account, client: Client) -> None:
    client.force_login(User.objects.create_superuser("admin", "admin@example.org", "x"))
    r = client.post(
        "/admin/subscribers/suppression/add/",
        {"email": "eve@example.org", "account": "", "reason": "manual", "note": "asked by phone"},
    )
    assert r.status_code == 302
    row = Suppression.objects.get()
    assert (row.account, row.email, row.note) == (None, "eve@example.org", "asked by phone")
    client.post(f"/admin/subscribers/suppression/{row.pk}/delete/", {"post": "yes"})
    assert not Suppression.objects.exists()


def test_it_explains_a_duplicate_in_the_admin(account: Account, client: Client) -> None:
    actions.suppress(None, "eve@example.org")
    client.force_login(User.objects.create_superuser("admin", "admin@example.org", "x"))
    r = client.post(
        "/admin/subscribers/suppression/add/",
        {"email": "eve@example.org", "account": "", "reason": "manual", "note": ""},
    )
    assert r.status_code == 200
    assert "already suppressed for every account" in r.content.decode()
