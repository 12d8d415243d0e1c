"""Moderating held posts from the Django admin's list of list messages."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from tidings.delivery.models import Send
from tidings.inbound.actions import store_message
from tidings.inbound.router import route_one
from tidings.lists.models import ListMessage, ListSender

pytestmark = pytest.mark.django_db

LIST = "wanabidii@lists.tidings.localhost"
HELD_POST = (
    f"From: mallory@example.com\r\nTo: {LIST}\r\nSubject: Offer\r\n"
    "Message-ID: <offer@example.com>\r\n\r\nA message for the members.\r\n"
).encode()


@pytest.fixture
def held(wanabidii) -> ListMessage:  # type: ignore[no-untyped-def]
    store_message(HELD_POST, mail_from="mallory@example.com", local_rcpts=[LIST], captured_rcpts=[])
    assert route_one()
    return ListMessage.objects.get(status=ListMessage.HELD)


def act(client, action: str, record: ListMessage):  # type: ignore[no-untyped-def]
    client.force_login(User.objects.create_superuser("carol", "carol@example.net", "x"))
    return client.post(
        "/admin/lists/listmessage/", {"action": action, "_selected_action": [record.pk]}
    )


def test_it_approves_and_accepts_the_sender_from_the_admin(client, held):  # type: ignore[no-untyped-def]
    act(client, "approve_and_accept_sender", held)
    held.refresh_from_db()
    assert held.reason.startswith("Approved by carol;")
    assert ListSender.objects.filter(address="mallory@example.com").get().action == "accept"
    assert Send.objects.filter(kind=Send.LIST_POST).count() == 1


def test_it_discards_from_the_admin(client, held):  # type: ignore[no-untyped-def]
    act(client, "discard", held)
    held.refresh_from_db()
    assert held.status == ListMessage.DISCARDED
