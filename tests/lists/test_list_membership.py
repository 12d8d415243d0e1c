"""Joining and leaving lists by mail commands and from the list's pages, always confirmed."""

from __future__ import annotations

import re
import smtplib
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

import pytest

from tests.smtp_helpers import captured_for, text_part, tidings_smtpd
from tidings.delivery.models import Send
from tidings.inbound import addresses
from tidings.inbound.actions import store_message
from tidings.inbound.router import route_one
from tidings.lists import addresses as list_addresses
from tidings.lists import membership
from tidings.lists.models import Member, MembershipRequest
from tidings.lists.tokens import confirm_token
from tidings.ops.worker import drain

pytestmark = pytest.mark.django_db

DOMAIN = "lists.tidings.localhost"


def command(rcpt: str, body: str = "", subject: str = "", sender: str = "erin@example.org",
            extra: str = "") -> str:  # fmt: skip
    raw = (
        f"From: Erin <{sender}>\r\nTo: {rcpt}\r\nSubject: {subject}\r\n{extra}"
        f"Message-ID: <cmd@example.org>\r\n\r\n{body}\r\n"
    ).encode()
    message = store_message(raw, mail_from=sender, local_rcpts=[rcpt], captured_rcpts=[])
    assert route_one()
    message.refresh_from_db()
    return message.notes


def notices_to(address: str) -> list[EmailMessage]:
    found = []
    for send in Send.objects.filter(kind=Send.NOTICE, deliveries__address=address).order_by("pk"):
        parsed = message_from_bytes(bytes(send.message), policy=default)
        assert isinstance(parsed, EmailMessage)
        found.append(parsed)
    return found


def confirm_link(msg: EmailMessage) -> str:
    found = re.search(r"http://\S+/confirm/\S+/", text_part(msg))
    assert found is not None
    return found.group(0).split("127.0.0.1:8000", 1)[1]


def test_it_resolves_the_command_addresses(wanabidii):  # type: ignore[no-untyped-def]
    assert addresses.resolve(f"wanabidii-join@{DOMAIN}").kind == list_addresses.LIST_JOIN
    assert addresses.resolve(f"wanabidii-leave@{DOMAIN}").kind == list_addresses.LIST_LEAVE
    assert addresses.resolve(f"wanabidii-request@{DOMAIN}").kind == list_addresses.LIST_REQUEST
    assert addresses.resolve(f"nolist-join@{DOMAIN}") is None


def test_it_resolves_only_genuine_confirmation_addresses(wanabidii):  # type: ignore[no-untyped-def]
    good = f"wanabidii-confirm+{confirm_token(41)}@{DOMAIN}"
    destination = addresses.resolve(good)
    assert destination is not None and destination.ident == 41
    assert addresses.resolve(f"wanabidii-confirm+41.0123456789abcdef@{DOMAIN}") is None


def test_it_asks_to_confirm_a_join_by_mail(wanabidii):  # type: ignore[no-untyped-def]
    notes = command(f"wanabidii-join@{DOMAIN}")
    assert "join requested for erin@example.org" in notes
    (notice,) = notices_to("erin@example.org")
    pending = MembershipRequest.objects.get(address="erin@example.org")
    assert notice["Reply-To"] == membership.confirm_address(pending)
    assert notice["Auto-Submitted"] == "auto-generated"
    assert not Member.objects.filter(address="erin@example.org").exists()


def test_it_joins_when_the_confirmation_is_answered(wanabidii):  # type: ignore[no-untyped-def]
    command(f"wanabidii-join@{DOMAIN}")
    pending = MembershipRequest.objects.get(address="erin@example.org")
    notes = command(membership.confirm_address(pending), body="> quoted confirmation")
    assert "erin@example.org joined" in notes
    assert Member.objects.filter(mailing_list=wanabidii, address="erin@example.org").exists()


def test_it_ignores_an_autoresponder_answering_the_confirmation(wanabidii):  # type: ignore[no-untyped-def]
    command(f"wanabidii-join@{DOMAIN}")
    pending = MembershipRequest.objects.get(address="erin@example.org")
    command(membership.confirm_address(pending), extra="Auto-Submitted: auto-replied\r\n")
    assert not Member.objects.filter(address="erin@example.org").exists()


def test_it_understands_subscribe_sent_to_the_request_address(wanabidii):  # type: ignore[no-untyped-def]
    notes = command(f"wanabidii-request@{DOMAIN}", body="subscribe")
    assert "join requested" in notes


def test_it_confirms_by_a_reply_to_the_request_address(wanabidii):  # type: ignore[no-untyped-def]
    command(f"wanabidii-join@{DOMAIN}")
    (notice,) = notices_to("erin@example.org")
    notes = command(f"wanabidii-request@{DOMAIN}", subject=f"Re: {notice['Subject']}")
    assert "joined" in notes


def test_it_sends_help_for_an_unknown_request(wanabidii):  # type: ignore[no-untyped-def]
    notes = command(f"wanabidii-request@{DOMAIN}", body="what is this list?")
    assert "sent help" in notes
    (notice,) = notices_to("erin@example.org")
    assert f"wanabidii-join@{DOMAIN}" in text_part(notice)
    assert notice["Auto-Submitted"] == "auto-replied"


def test_it_never_answers_a_null_sender(wanabidii):  # type: ignore[no-untyped-def]
    raw = f"From: x@example.org\r\nTo: wanabidii-join@{DOMAIN}\r\n\r\nhi\r\n".encode()
    store_message(raw, mail_from="", local_rcpts=[f"wanabidii-join@{DOMAIN}"], captured_rcpts=[])
    assert route_one()
    assert Send.objects.count() == 0


def test_it_asks_a_member_to_confirm_leaving(wanabidii):  # type: ignore[no-untyped-def]
    command(f"wanabidii-leave@{DOMAIN}", sender="carol@example.net")
    pending = MembershipRequest.objects.get(action=MembershipRequest.LEAVE)
    command(membership.confirm_address(pending), sender="carol@example.net")
    assert not Member.objects.filter(address="carol@example.net").exists()


def test_it_sends_nothing_to_a_non_member_who_asks_to_leave(wanabidii):  # type: ignore[no-untyped-def]
    command(f"wanabidii-leave@{DOMAIN}", sender="stranger@example.org")
    assert Send.objects.count() == 0


def test_it_sends_one_mail_for_repeated_requests(wanabidii):  # type: ignore[no-untyped-def]
    membership.request_join(wanabidii, "erin@example.org")
    membership.request_join(wanabidii, "erin@example.org")
    assert len(notices_to("erin@example.org")) == 1


def test_the_join_page_answers_the_same_for_members_and_strangers(client, wanabidii):  # type: ignore[no-untyped-def]
    member = client.post("/lists/wanabidii/join/", {"email": "carol@example.net"})
    stranger = client.post("/lists/wanabidii/join/", {"email": "nobody@example.org"})
    assert member.status_code == stranger.status_code == 200
    assert member.content.replace(b"carol@example.net", b"") == stranger.content.replace(
        b"nobody@example.org", b""
    )


def test_the_leave_page_answers_the_same_for_members_and_strangers(client, wanabidii):  # type: ignore[no-untyped-def]
    member = client.post("/lists/wanabidii/leave/", {"email": "carol@example.net"})
    stranger = client.post("/lists/wanabidii/leave/", {"email": "nobody@example.org"})
    assert member.status_code == stranger.status_code == 200
    assert member.content == stranger.content


def test_the_join_page_refuses_a_bad_address(client, wanabidii):  # type: ignore[no-untyped-def]
    response = client.post("/lists/wanabidii/join/", {"email": "not an address"})
    assert response.status_code == 400
    assert Send.objects.count() == 0


def test_the_confirmation_link_only_offers_a_button(client, wanabidii):  # type: ignore[no-untyped-def]
    client.post("/lists/wanabidii/join/", {"email": "erin@example.org", "delivery_mode": "digest"})
    link = confirm_link(notices_to("erin@example.org")[0])
    page = client.get(link)
    assert page.status_code == 200
    assert b'<form method="post">' in page.content
    assert not Member.objects.filter(address="erin@example.org").exists()


def test_the_confirmation_post_joins_with_the_chosen_delivery(client, wanabidii):  # type: ignore[no-untyped-def]
    client.post("/lists/wanabidii/join/", {"email": "erin@example.org", "delivery_mode": "digest"})
    link = confirm_link(notices_to("erin@example.org")[0])
    response = client.post(link)
    assert response.status_code == 200
    member = Member.objects.get(address="erin@example.org")
    assert member.delivery_mode == Member.DIGEST


def test_a_confirmation_link_works_once(client, wanabidii):  # type: ignore[no-untyped-def]
    client.post("/lists/wanabidii/join/", {"email": "erin@example.org"})
    link = confirm_link(notices_to("erin@example.org")[0])
    client.post(link)
    assert client.post(link).status_code == 400


def test_an_expired_confirmation_link_is_refused(client, wanabidii, settings):  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from django.utils import timezone

    client.post("/lists/wanabidii/join/", {"email": "erin@example.org"})
    link = confirm_link(notices_to("erin@example.org")[0])
    MembershipRequest.objects.update(created=timezone.now() - timedelta(days=8))
    response = client.post(link)
    assert response.status_code == 400
    assert b"expired" in response.content


def test_a_forged_confirmation_link_is_refused(client, wanabidii):  # type: ignore[no-untyped-def]
    response = client.post("/lists/wanabidii/confirm/1.0123456789abcdef/")
    assert response.status_code == 400


@pytest.mark.django_db(transaction=True)
def test_it_joins_by_mail_end_to_end_over_smtp(settings, wanabidii):  # type: ignore[no-untyped-def]
    join = f"wanabidii-join@{DOMAIN}"
    with tidings_smtpd(settings) as port:
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.sendmail(
                "erin@example.org", [join], f"From: erin@example.org\r\nTo: {join}\r\n\r\n."
            )
        drain()
        (request,) = captured_for("erin@example.org")
        with smtplib.SMTP("127.0.0.1", port) as client:
            reply = (
                f"From: erin@example.org\r\nTo: {request['Reply-To']}\r\nSubject: Re: x\r\n\r\nyes"
            )
            client.sendmail("erin@example.org", [str(request["Reply-To"])], reply)
        drain()
    assert Member.objects.filter(address="erin@example.org").exists()
    welcome = captured_for("erin@example.org")[-1]
    assert welcome["Subject"] == "Welcome to wanabidii"


@pytest.mark.django_db(transaction=True)
def test_the_smtp_server_refuses_a_forged_confirmation_address(settings, wanabidii):  # type: ignore[no-untyped-def]
    with tidings_smtpd(settings) as port, smtplib.SMTP("127.0.0.1", port) as client:
        client.ehlo()
        client.mail("erin@example.org")
        code, _ = client.rcpt(f"wanabidii-confirm+1.0123456789abcdef@{DOMAIN}")
        assert code == 550
        code, _ = client.rcpt(f"wanabidii-request@{DOMAIN}")
        assert code == 250


def test_members_see_each_other_when_the_list_allows_it(client, wanabidii):  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import User

    wanabidii.members_visible = True
    wanabidii.save()
    client.force_login(User.objects.create_user("carol", "carol@example.net", "x"))
    response = client.get("/lists/wanabidii/members/")
    assert response.status_code == 200
    assert b"dave@example.com" in response.content


def test_the_member_list_is_hidden_by_default(client, wanabidii):  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import User

    client.force_login(User.objects.create_user("carol", "carol@example.net", "x"))
    assert client.get("/lists/wanabidii/members/").status_code == 404


def test_strangers_never_see_the_members(client, wanabidii):  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import User

    wanabidii.members_visible = True
    wanabidii.save()
    client.force_login(User.objects.create_user("zed", "zed@example.org", "x"))
    assert client.get("/lists/wanabidii/members/").status_code == 404


def test_a_member_asking_to_join_is_told_once(wanabidii):  # type: ignore[no-untyped-def]
    membership.request_join(wanabidii, "carol@example.net")
    membership.request_join(wanabidii, "carol@example.net")
    (notice,) = notices_to("carol@example.net")
    assert notice["Subject"] == "You are already a member of wanabidii"


def test_the_join_and_leave_pages_limit_requests_per_network(client, wanabidii, settings):  # type: ignore[no-untyped-def]
    settings.SUBSCRIBE_RATE_PER_IP = 2
    client.post("/lists/wanabidii/join/", {"email": "one@example.org"})
    client.post("/lists/wanabidii/leave/", {"email": "carol@example.net"})
    before = MembershipRequest.objects.count()

    refused = client.post("/lists/wanabidii/join/", {"email": "three@example.org"})

    assert refused.status_code == 429
    assert b"Too many requests" in refused.content
    assert MembershipRequest.objects.count() == before
    assert client.get("/lists/wanabidii/join/").status_code == 200
