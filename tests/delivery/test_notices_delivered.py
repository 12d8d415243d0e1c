"""Notices reach people: local addresses without a mailbox are captured, failures are shown."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.smtp_helpers import captured_for, sink_server, tidings_smtpd
from tidings.delivery.models import Delivery
from tidings.delivery.worker import process_chunk
from tidings.inbound.actions import store_message
from tidings.inbound.router import route_one
from tidings.ops.worker import drain

pytestmark = pytest.mark.django_db(transaction=True)


def _hold_a_post(wanabidii) -> None:  # type: ignore[no-untyped-def]
    raw = (
        f"From: mallory@example.com\r\nTo: {wanabidii.address}\r\nSubject: Offer\r\n"
        "Message-ID: <offer@example.com>\r\n\r\nBuy.\r\n"
    ).encode()
    store_message(raw, mail_from="mallory@example.com", local_rcpts=[wanabidii.address],
                  captured_rcpts=[])  # fmt: skip


def _moderator_notice_refused(wanabidii) -> None:  # type: ignore[no-untyped-def]
    """Hold a post; the relay refuses the moderator notice to alice with a 550."""
    _hold_a_post(wanabidii)
    with sink_server() as sink:
        sink.replies["alice@example.gov"] = "550 5.1.1 <alice@example.gov>: mailbox unavailable"
        while route_one():
            pass
        while process_chunk(sink.relay):
            pass


def test_a_notice_to_a_local_address_without_a_mailbox_is_captured(settings, wanabidii, alice):  # type: ignore[no-untyped-def]
    alice.email = "press@tidings.localhost"  # the account's own domain, no list behind it
    alice.save()
    _hold_a_post(wanabidii)
    with tidings_smtpd(settings):
        drain()
    rows = Delivery.objects.filter(address="press@tidings.localhost")
    assert rows and {r.state for r in rows} == {Delivery.SENT}, [r.last_reply for r in rows]
    notices = captured_for("press@tidings.localhost")
    assert len(notices) == len(rows)
    assert any("Offer" in str(n["Subject"]) for n in notices)


def test_a_notice_that_fails_is_shown_on_the_accounts_console_home(  # type: ignore[no-untyped-def]
    client: Client, wanabidii, alice, account
) -> None:
    _moderator_notice_refused(wanabidii)
    assert Delivery.objects.get(address="alice@example.gov").state == Delivery.FAILED

    client.force_login(alice)
    page = client.get(f"/console/{account.code}/").content.decode()
    assert "Notices that could not be delivered" in page
    assert "alice@example.gov" in page
    assert "mailbox unavailable" in page


def test_another_accounts_failed_notices_are_not_shown(  # type: ignore[no-untyped-def]
    client: Client, wanabidii, alice, oscar, other_account
) -> None:
    _moderator_notice_refused(wanabidii)
    client.force_login(oscar)
    page = client.get(f"/console/{other_account.code}/").content.decode()
    assert "Notices that could not be delivered" not in page
