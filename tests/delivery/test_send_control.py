from __future__ import annotations

import pytest
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


def sends_url(account, *rest):  # type: ignore[no-untyped-def]
    return "/".join([f"/console/{account.code}/sends", *map(str, rest)]) + "/"


def test_it_shows_the_counts_to_the_accounts_members_only(client, account, send, victor, oscar):  # type: ignore[no-untyped-def]
    assert client.get(sends_url(account, send.pk)).status_code == 302  # the console's login
    client.force_login(oscar)  # another agency's admin: not even told it exists
    assert client.get(sends_url(account, send.pk)).status_code == 404
    client.force_login(victor)
    page = client.get(sends_url(account, send.pk)).content.decode()
    assert '<td id="count-queued">1</td>' in page
    assert '<td id="count-total">1</td>' in page
    assert "Pause" not in page  # a viewer watches, an author or admin acts
    assert (
        f'href="{sends_url(account, send.pk)}"' in client.get(sends_url(account)).content.decode()
    )


def test_it_lists_the_sends_in_the_consoles_menu(client, account, send, victor):  # type: ignore[no-untyped-def]
    client.force_login(victor)
    home = client.get(f"/console/{account.code}/").content.decode()
    assert f'href="{sends_url(account)}">Sends</a>' in home


def test_it_pauses_from_the_web_page(client, account, send, erin, victor):  # type: ignore[no-untyped-def]
    client.force_login(victor)
    assert client.post(sends_url(account, send.pk, "pause")).status_code == 404
    client.force_login(erin)
    response = client.post(sends_url(account, send.pk, "pause"))
    assert response.status_code == 302
    send.refresh_from_db()
    assert send.state == Send.PAUSED
    assert client.get(sends_url(account, send.pk, "pause")).status_code == 405
