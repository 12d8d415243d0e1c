from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError

from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.delivery.actions import SendStateError, cancel_send, pause_send, resume_send
from tidings.delivery.models import Delivery, Send
from tidings.delivery.worker import claim

pytestmark = pytest.mark.django_db


@pytest.fixture
def send(account, topic, bob):  # type: ignore[no-untyped-def]
    bulletin = create_bulletin(account, subject="Notice", body="Body.", topics=[topic])
    return publish_bulletin(bulletin)


@pytest.fixture
def staff(client):  # type: ignore[no-untyped-def]
    alice = User.objects.create_user("alice", password="x", is_staff=True)
    client.force_login(alice)
    return client


def test_it_hands_out_nothing_of_a_paused_send(send):  # type: ignore[no-untyped-def]
    pause_send(send)
    assert claim(100, 60).rows == []


def test_it_resumes_where_it_stopped(send):  # type: ignore[no-untyped-def]
    pause_send(send)
    resume_send(send)
    assert [row.address for row in claim(100, 60).rows] == ["bob@example.org"]


def test_it_cancels_the_rows_not_yet_sent(send):  # type: ignore[no-untyped-def]
    assert cancel_send(send) == 1
    assert Delivery.objects.get(send=send).state == Delivery.CANCELLED
    with pytest.raises(SendStateError):
        resume_send(send)


def test_it_pauses_from_the_command_line(send):  # type: ignore[no-untyped-def]
    call_command("pause", send.pk)
    send.refresh_from_db()
    assert send.state == Send.PAUSED
    with pytest.raises(CommandError, match="not sending"):
        call_command("pause", send.pk)


def test_it_shows_the_counts_to_staff_only(client, send):  # type: ignore[no-untyped-def]
    assert client.get(f"/sends/{send.pk}/").status_code == 302
    alice = User.objects.create_user("alice", password="x", is_staff=True)
    client.force_login(alice)
    page = client.get(f"/sends/{send.pk}/").content.decode()
    assert '<td id="count-queued">1</td>' in page
    assert '<td id="count-total">1</td>' in page


def test_it_pauses_from_the_web_page(staff, send):  # type: ignore[no-untyped-def]
    response = staff.post(f"/sends/{send.pk}/pause/")
    assert response.status_code == 302
    send.refresh_from_db()
    assert send.state == Send.PAUSED
    assert staff.get(f"/sends/{send.pk}/pause/").status_code == 405
