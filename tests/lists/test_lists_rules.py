"""The moderation chain: each rule holds, rejects or discards what it should, and says why."""

from __future__ import annotations

import smtplib
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

import pytest

from tests.smtp_helpers import captured_for, tidings_smtpd
from tidings.inbound.actions import store_message
from tidings.lists.actions import add_member, set_sender_action
from tidings.lists.models import ListMessage, ListSender, MailingList
from tidings.lists.relay import decide, receive_post
from tidings.lists.rules import Decision
from tidings.ops.worker import drain

pytestmark = pytest.mark.django_db

LIST = "wanabidii@lists.tidings.localhost"


def post(
    sender: str = "carol@example.net",
    to: str = LIST,
    subject: str = "Meeting notes",
    body: str = "The notes from Tuesday's meeting are below.\n",
    headers: str = "",
) -> bytes:
    return (
        (
            f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n{headers}"
            f"Message-ID: <rules@example.net>\r\n\r\n{body}"
        )
        .encode()
        .replace(b"\r\n", b"\n")
        .replace(b"\n", b"\r\n")
    )  # as SMTP carries it


def parse(raw: bytes) -> EmailMessage:
    msg = message_from_bytes(raw, policy=default)
    assert isinstance(msg, EmailMessage)
    return msg


def judge(mailing_list: MailingList, raw: bytes, mail_from: str = "") -> Decision:
    return decide(mailing_list, parse(raw), mail_from)


def with_policy(mailing_list: MailingList, policy: str) -> MailingList:
    mailing_list.posting_policy = policy
    mailing_list.save()
    return mailing_list


def test_it_holds_a_post_that_only_says_unsubscribe(wanabidii):  # type: ignore[no-untyped-def]
    decision = judge(wanabidii, post(sender="usstatebpa@tidings.localhost", body="unsubscribe\n"))
    assert (decision.status, decision.rule) == (ListMessage.HELD, "administrivia")


def test_it_holds_an_empty_post_whose_subject_is_a_command(wanabidii):  # type: ignore[no-untyped-def]
    decision = judge(wanabidii, post(subject="Please subscribe me", body="\n"))
    assert decision.rule == "administrivia"


def test_it_does_not_take_a_real_post_starting_with_help_for_a_command(wanabidii):  # type: ignore[no-untyped-def]
    raw = post(
        sender="usstatebpa@tidings.localhost",
        body="Help wanted: volunteers for the river cleanup on Saturday morning.\n",
    )
    assert judge(wanabidii, raw).status == ListMessage.ACCEPTED


def test_it_holds_a_post_over_the_list_size_limit(wanabidii):  # type: ignore[no-untyped-def]
    wanabidii.max_message_size = 1000
    wanabidii.save()
    decision = judge(wanabidii, post(sender="usstatebpa@tidings.localhost", body="x" * 2000))
    assert (decision.status, decision.rule) == (ListMessage.HELD, "size")
    assert "limit is 1000 bytes" in decision.reason


def test_it_relays_a_large_post_when_the_list_sets_no_size_limit(wanabidii):  # type: ignore[no-untyped-def]
    raw = post(sender="usstatebpa@tidings.localhost", body="x" * 200_000)
    assert judge(wanabidii, raw).status == ListMessage.ACCEPTED


def test_it_holds_a_post_that_reached_the_list_by_bcc(wanabidii):  # type: ignore[no-untyped-def]
    decision = judge(wanabidii, post(sender="usstatebpa@tidings.localhost", to="x@example.org"))
    assert (decision.status, decision.rule) == (ListMessage.HELD, "implicit-destination")


def test_it_accepts_the_list_named_in_cc(wanabidii):  # type: ignore[no-untyped-def]
    raw = post(sender="usstatebpa@tidings.localhost", to="x@example.org", headers=f"Cc: {LIST}\r\n")
    assert judge(wanabidii, raw).status == ListMessage.ACCEPTED


def test_it_discards_a_banned_sender_even_if_the_envelope_is_allowed(wanabidii):  # type: ignore[no-untyped-def]
    set_sender_action(wanabidii, "mallory@example.com", ListSender.BAN)
    decision = judge(
        wanabidii, post(sender="mallory@example.com"), mail_from="usstatebpa@tidings.localhost"
    )
    assert (decision.status, decision.rule) == (ListMessage.DISCARDED, "banned")


def test_it_always_holds_a_sender_set_to_hold(wanabidii):  # type: ignore[no-untyped-def]
    set_sender_action(wanabidii, "usstatebpa@tidings.localhost", ListSender.HOLD)
    decision = judge(wanabidii, post(sender="usstatebpa@tidings.localhost"))
    assert (decision.status, decision.rule) == (ListMessage.HELD, "sender-hold")


def test_it_rejects_a_sender_set_to_reject(wanabidii):  # type: ignore[no-untyped-def]
    set_sender_action(wanabidii, "mallory@example.com", ListSender.REJECT)
    decision = judge(wanabidii, post(sender="mallory@example.com"))
    assert (decision.status, decision.rule) == (ListMessage.REJECTED, "sender-reject")


def test_it_discards_a_sender_set_to_discard(wanabidii):  # type: ignore[no-untyped-def]
    set_sender_action(wanabidii, "mallory@example.com", ListSender.DISCARD)
    decision = judge(wanabidii, post(sender="mallory@example.com"))
    assert (decision.status, decision.rule) == (ListMessage.DISCARDED, "sender-discard")


def test_it_refuses_an_unknown_sender_action(wanabidii):  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="unknown sender action"):
        set_sender_action(wanabidii, "mallory@example.com", "welcome")


def test_it_holds_a_member_on_an_announce_only_list(wanabidii):  # type: ignore[no-untyped-def]
    decision = judge(wanabidii, post(sender="carol@example.net"))
    assert (decision.status, decision.rule) == (ListMessage.HELD, "not-on-accept-list")


def test_it_accepts_a_member_on_a_members_only_list(wanabidii):  # type: ignore[no-untyped-def]
    decision = judge(with_policy(wanabidii, MailingList.MEMBERS), post(sender="Carol@Example.net"))
    assert (decision.status, decision.rule) == (ListMessage.ACCEPTED, "posting-policy")


def test_it_matches_a_member_added_with_capitals(wanabidii):  # type: ignore[no-untyped-def]
    add_member(wanabidii, "Erin.Lee@example.org")
    decision = judge(
        with_policy(wanabidii, MailingList.MEMBERS), post(sender="erin.lee@example.org")
    )
    assert decision.status == ListMessage.ACCEPTED


def test_it_holds_a_non_member_on_a_members_only_list(wanabidii):  # type: ignore[no-untyped-def]
    decision = judge(
        with_policy(wanabidii, MailingList.MEMBERS), post(sender="mallory@example.com")
    )
    assert (decision.status, decision.rule) == (ListMessage.HELD, "non-member")
    assert "mallory@example.com is not a member" in decision.reason


def test_it_holds_a_member_on_a_moderated_list(wanabidii):  # type: ignore[no-untyped-def]
    decision = judge(
        with_policy(wanabidii, MailingList.MODERATED), post(sender="carol@example.net")
    )
    assert (decision.status, decision.rule) == (ListMessage.HELD, "moderated")


def test_it_accepts_an_allowed_sender_on_a_moderated_list(wanabidii):  # type: ignore[no-untyped-def]
    mailing_list = with_policy(wanabidii, MailingList.MODERATED)
    decision = judge(mailing_list, post(sender="usstatebpa@tidings.localhost"))
    assert (decision.status, decision.rule) == (ListMessage.ACCEPTED, "accept-list")


def test_it_accepts_a_stranger_on_an_open_list(wanabidii):  # type: ignore[no-untyped-def]
    decision = judge(
        with_policy(wanabidii, MailingList.OPEN_POSTING), post(sender="eve@example.org")
    )
    assert decision.status == ListMessage.ACCEPTED


def test_it_holds_a_post_flagged_as_spam(wanabidii):  # type: ignore[no-untyped-def]
    mailing_list = with_policy(wanabidii, MailingList.OPEN_POSTING)
    decision = judge(mailing_list, post(headers="X-Spam-Flag: YES\r\n"))
    assert (decision.status, decision.rule) == (ListMessage.HELD, "suspicious-header")


def test_it_holds_a_post_matching_a_header_pattern_the_list_sets(wanabidii):  # type: ignore[no-untyped-def]
    wanabidii.posting_policy = MailingList.OPEN_POSTING
    wanabidii.hold_headers = "X-Mailer: ^bulk(mail)?er"
    wanabidii.save()
    decision = judge(wanabidii, post(headers="X-Mailer: BulkMailer 2.0\r\n"))
    assert decision.reason == "The X-Mailer header matches '^bulk(mail)?er'."


def test_it_records_the_rule_and_reason_of_a_held_post(wanabidii):  # type: ignore[no-untyped-def]
    raw = post(sender="usstatebpa@tidings.localhost", to="x@example.org")
    inbound = store_message(raw, mail_from="", local_rcpts=[LIST], captured_rcpts=[])
    record = receive_post(wanabidii, inbound, parse(raw))
    record.refresh_from_db()
    assert (record.status, record.rule) == (ListMessage.HELD, "implicit-destination")
    assert record.reason == f"{LIST} is not in the post's To or Cc."


@pytest.mark.django_db(transaction=True)
def test_it_relays_a_members_post_over_smtp_on_a_members_only_list(settings, wanabidii):  # type: ignore[no-untyped-def]
    with_policy(wanabidii, MailingList.MEMBERS)
    with tidings_smtpd(settings) as port:
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.sendmail("carol@example.net", [LIST], post(sender="carol@example.net"))
        drain()
    (received,) = captured_for("dave@example.com")
    assert received["Subject"] == "[wanabidii] Meeting notes"
