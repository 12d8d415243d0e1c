"""Each posting policy and each moderation action over a real SMTP socket, checked in the outbox."""

from __future__ import annotations

import smtplib

import pytest

from tests.smtp_helpers import captured_for, text_part, tidings_smtpd
from tidings.lists.models import ListMessage, MailingList
from tidings.ops.worker import drain

pytestmark = pytest.mark.django_db(transaction=True)

LIST = "wanabidii@lists.tidings.localhost"
MEMBER = "carol@example.net"
STRANGER = "mallory@example.com"


def post(client: smtplib.SMTP, sender: str, subject: str) -> None:
    client.sendmail(
        sender,
        [LIST],
        f"From: {sender}\r\nTo: {LIST}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{subject.replace(' ', '.')}@example.org>\r\n\r\nHello.\r\n",
    )


def subjects_for(address: str) -> list[str]:
    return [str(m["Subject"]) for m in captured_for(address)]


@pytest.mark.parametrize(
    ("policy", "member_relayed", "stranger_relayed"),
    [
        (MailingList.MEMBERS, True, False),
        (MailingList.MODERATED, False, False),
        (MailingList.ANNOUNCE, False, False),
        (MailingList.OPEN_POSTING, True, True),
    ],
)
def test_each_posting_policy_over_smtp(  # type: ignore[no-untyped-def]
    settings, wanabidii, alice, policy, member_relayed, stranger_relayed
):
    MailingList.objects.filter(pk=wanabidii.pk).update(posting_policy=policy)
    with tidings_smtpd(settings) as port:
        with smtplib.SMTP("127.0.0.1", port) as client:
            post(client, MEMBER, "From a member")
            post(client, STRANGER, "From a stranger")
        drain()
    received = subjects_for("dave@example.com")
    assert ("[wanabidii] From a member" in received) is member_relayed
    assert ("[wanabidii] From a stranger" in received) is stranger_relayed
    held = 2 - member_relayed - stranger_relayed
    assert ListMessage.objects.filter(status=ListMessage.HELD).count() == held
    notices = [s for s in subjects_for("alice@example.gov") if "held for moderation" in s]
    assert len(notices) == held


def held_over_smtp(settings, port: int) -> ListMessage:  # type: ignore[no-untyped-def]
    with smtplib.SMTP("127.0.0.1", port) as client:
        post(client, STRANGER, "Offer")
    drain()
    return ListMessage.objects.get(status=ListMessage.HELD)


def moderate(client, record: ListMessage, action: str, reason: str = "") -> None:  # type: ignore[no-untyped-def]
    url = "/console/USSTATEBPA/lists/wanabidii/queue/"
    answer = {"post": record.pk, "action": action, "reason": reason, "confirmed": "yes"}
    response = client.post(url, answer)
    assert response.status_code == 302


def test_approve_over_smtp(settings, client, wanabidii, alice):  # type: ignore[no-untyped-def]
    client.force_login(alice)
    with tidings_smtpd(settings) as port:
        moderate(client, held_over_smtp(settings, port), "approve")
        drain()
    assert subjects_for("dave@example.com") == ["[wanabidii] Offer"]


def test_approve_and_accept_over_smtp(settings, client, wanabidii, alice):  # type: ignore[no-untyped-def]
    client.force_login(alice)
    with tidings_smtpd(settings) as port:
        moderate(client, held_over_smtp(settings, port), "accept")
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            post(smtp, STRANGER, "Second")
        drain()
    assert subjects_for("dave@example.com") == ["[wanabidii] Offer", "[wanabidii] Second"]


def test_reject_over_smtp(settings, client, wanabidii, alice):  # type: ignore[no-untyped-def]
    client.force_login(alice)
    with tidings_smtpd(settings) as port:
        moderate(client, held_over_smtp(settings, port), "reject", "Off topic.")
        drain()
    held_notice, notice = captured_for(STRANGER)  # told it waits, then why it was rejected
    assert "waiting for a moderator" in held_notice["Subject"]
    assert "Off topic." in text_part(notice)
    assert subjects_for("dave@example.com") == []


def test_discard_over_smtp(settings, client, wanabidii, alice):  # type: ignore[no-untyped-def]
    client.force_login(alice)
    with tidings_smtpd(settings) as port:
        moderate(client, held_over_smtp(settings, port), "discard")
        drain()
    # Told once that it waits; nothing about the discard.
    assert [m["Subject"].split(":")[0] for m in captured_for(STRANGER)] == [
        "Your post to wanabidii@lists.tidings.localhost is waiting for a moderator"
    ]
    assert subjects_for("dave@example.com") == []
