"""The lists' console pages: settings, members (fast at 100,000), imports, invitations, queue."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tidings.delivery.models import Send
from tidings.inbound.actions import store_message
from tidings.inbound.router import route_one
from tidings.lists.actions import create_list
from tidings.lists.models import ListMessage, ListSender, MailingList, Member, MembershipRequest

pytestmark = pytest.mark.django_db

BASE = "/console/USSTATEBPA/lists/wanabidii/"


def login(client, user):  # type: ignore[no-untyped-def]
    client.force_login(user)
    return client


def held_post(subject: str = "Offer") -> ListMessage:
    raw = (
        f"From: mallory@example.com\r\nTo: wanabidii@lists.tidings.localhost\r\n"
        f"Subject: {subject}\r\nMessage-ID: <{subject}@example.com>\r\n\r\nBuy.\r\n"
    ).encode()
    store_message(
        raw,
        mail_from="mallory@example.com",
        local_rcpts=["wanabidii@lists.tidings.localhost"],
        captured_rcpts=[],
    )
    assert route_one()
    return ListMessage.objects.get(subject=subject)


def test_the_index_lists_the_accounts_lists_only(client, alice, wanabidii, other_account):  # type: ignore[no-untyped-def]
    create_list("otherlist", account=other_account)
    response = login(client, alice).get("/console/USSTATEBPA/lists/")
    assert b"wanabidii" in response.content
    assert b"otherlist" not in response.content


def test_another_tenant_gets_404(client, oscar, wanabidii):  # type: ignore[no-untyped-def]
    assert login(client, oscar).get(BASE).status_code == 404
    assert client.get(BASE + "members/").status_code == 404


def test_an_admin_saves_the_settings(client, alice, wanabidii):  # type: ignore[no-untyped-def]
    response = login(client, alice).post(
        BASE,
        {
            "display_name": "Wanabidii",
            "subject_tag": "[w]",
            "reply_to": "list",
            "posting_policy": "members",
            "max_message_size": "100000",
            "attachment_policy": "strip",
            "attachment_types": "application/zip\napplication/*",
            "archive_visibility": "members",
        },
    )
    assert response.status_code == 302
    wanabidii.refresh_from_db()
    assert (wanabidii.reply_to, wanabidii.attachment_policy) == ("list", "strip")
    assert wanabidii.archive_visibility == "members" and wanabidii.archive_public is False


def test_a_bad_content_type_is_refused(client, alice, wanabidii):  # type: ignore[no-untyped-def]
    data = {"reply_to": "list", "posting_policy": "members", "max_message_size": "0",
            "attachment_policy": "strip", "attachment_types": "zip files",
            "archive_visibility": "public"}  # fmt: skip
    response = login(client, alice).post(BASE, data)
    assert response.status_code == 400
    assert b"is not a content type" in response.content


def test_a_viewer_sees_the_settings_but_cannot_save(client, victor, wanabidii):  # type: ignore[no-untyped-def]
    login(client, victor)
    assert client.get(BASE).status_code == 200
    assert client.post(BASE, {"reply_to": "list"}).status_code == 404


def test_an_author_cannot_moderate(client, erin, wanabidii):  # type: ignore[no-untyped-def]
    record = held_post()
    response = login(client, erin).post(BASE + "queue/", {"post": record.pk, "action": "approve"})
    assert response.status_code == 404
    record.refresh_from_db()
    assert record.status == ListMessage.HELD


def add_many(mailing_list: MailingList, n: int) -> None:
    Member.objects.bulk_create(
        (Member(mailing_list=mailing_list, address=f"m{i:06d}@example.org") for i in range(n)),
        batch_size=5000,
    )


def test_the_member_list_pages_by_key(client, alice, wanabidii):  # type: ignore[no-untyped-def]
    add_many(wanabidii, 120)
    login(client, alice)
    first = client.get(BASE + "members/")
    assert b"m000000@example.org" in first.content
    assert b"m000050@example.org" not in first.content
    second = client.get(first.context["next_key"] and BASE + "members/?after=m000049%40example.org")
    assert b"m000050@example.org" in second.content
    assert b"m000049@example.org" not in second.content


def test_the_member_search_finds_addresses(client, alice, wanabidii):  # type: ignore[no-untyped-def]
    response = login(client, alice).get(BASE + "members/?q=carol")
    assert b"carol@example.net" in response.content
    assert b"dave@example.com" not in response.content


def test_a_member_page_costs_the_same_queries_at_any_size(client, alice, wanabidii):  # type: ignore[no-untyped-def]
    login(client, alice)
    client.get(BASE + "members/")  # warm the session
    with CaptureQueriesContext(connection) as small:
        client.get(BASE + "members/")
    add_many(wanabidii, 20_000)
    with CaptureQueriesContext(connection) as large:
        response = client.get(BASE + "members/?after=m010000%40example.org")
    assert response.status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries)
    assert not any("COUNT(" in q["sql"].upper() for q in large.captured_queries)


def test_a_member_page_takes_a_fixed_number_of_queries(
    client, alice, wanabidii, django_assert_num_queries
):  # type: ignore[no-untyped-def]
    add_many(wanabidii, 200)
    login(client, alice)
    client.get(BASE + "members/")
    # session, user, account, membership, membership.account, list, one page of members
    with django_assert_num_queries(7):
        client.get(BASE + "members/?q=m0001&after=m000105%40example.org")


def test_an_admin_changes_a_members_delivery(client, alice, wanabidii):  # type: ignore[no-untyped-def]
    carol = Member.objects.get(address="carol@example.net")
    login(client, alice).post(BASE + "members/", {"member": carol.pk, "action": "digest"})
    carol.refresh_from_db()
    assert carol.delivery_mode == Member.DIGEST


def test_the_import_adds_valid_lines_and_reports_bad_ones(client, alice, wanabidii):  # type: ignore[no-untyped-def]
    text = "email\nnew1@example.org\nnot-an-address\ncarol@example.net\nNew1@example.org\nx@\n"
    response = login(client, alice).post(
        BASE + "members/add/", {"addresses": text, "delivery_mode": "each", "how": "add"}
    )
    assert response.status_code == 400  # some lines could not be used
    report = response.context["report"]
    assert (report.added, report.existing, report.duplicates) == (1, 1, 1)
    assert [line for line, _, _ in report.errors] == [3, 6]
    assert Member.objects.filter(address="new1@example.org").exists()


def test_the_import_reads_csv(client, alice, wanabidii):  # type: ignore[no-untyped-def]
    text = 'address,name\n"a@example.org",A\nb@example.org,B\n'
    response = login(client, alice).post(
        BASE + "members/add/", {"addresses": text, "delivery_mode": "digest", "how": "add"}
    )
    assert response.status_code == 200
    assert Member.objects.filter(delivery_mode="digest").count() == 2


def test_an_invitation_sends_a_signed_accept_link(client, alice, wanabidii):  # type: ignore[no-untyped-def]
    login(client, alice).post(
        BASE + "members/add/", {"addresses": "guest@example.org", "delivery_mode": "each",
                                "how": "invite"}
    )  # fmt: skip
    invitation = MembershipRequest.objects.get(action=MembershipRequest.INVITE)
    assert not Member.objects.filter(address="guest@example.org").exists()
    send = Send.objects.get(kind=Send.NOTICE, deliveries__address="guest@example.org")
    assert b"alice invites you" in bytes(send.message)
    from tidings.lists.membership import confirm_url

    client.logout()
    client.post(confirm_url(invitation).removeprefix("http://127.0.0.1:8000"))
    assert Member.objects.filter(address="guest@example.org").exists()


def test_the_queue_shows_the_rule_and_the_reason(client, victor, wanabidii):  # type: ignore[no-untyped-def]
    held_post()
    response = login(client, victor).get(BASE + "queue/")
    assert b"not-on-accept-list" in response.content
    assert b"is not allowed to post to" in response.content
    assert b"Buy." in response.content  # the start of the post's text
    assert b'value="approve"' not in response.content  # a viewer only looks


def test_approve_relays_the_post(client, alice, wanabidii):  # type: ignore[no-untyped-def]
    record = held_post()
    login(client, alice).post(BASE + "queue/", {"post": record.pk, "action": "approve"})
    assert Send.objects.filter(kind=Send.LIST_POST).count() == 1


def test_approve_and_accept_adds_the_sender(client, alice, wanabidii):  # type: ignore[no-untyped-def]
    record = held_post()
    login(client, alice).post(BASE + "queue/", {"post": record.pk, "action": "accept"})
    assert ListSender.objects.filter(address="mallory@example.com", action="accept").exists()


def test_reject_tells_the_author_the_reason(client, alice, wanabidii):  # type: ignore[no-untyped-def]
    record = held_post()
    login(client, alice).post(
        BASE + "queue/", {"post": record.pk, "action": "reject", "reason": "Off topic."}
    )
    send = Send.objects.filter(kind=Send.NOTICE, deliveries__address="mallory@example.com").last()
    assert send is not None and b"was rejected" in bytes(send.message)
    assert b"Off topic." in bytes(send.message)


def test_reject_needs_a_reason(client, alice, wanabidii):  # type: ignore[no-untyped-def]
    record = held_post()
    login(client, alice).post(BASE + "queue/", {"post": record.pk, "action": "reject"})
    record.refresh_from_db()
    assert record.status == ListMessage.HELD


def test_discard_drops_the_post_silently(client, alice, wanabidii):  # type: ignore[no-untyped-def]
    record = held_post()
    sends = Send.objects.count()
    asked = login(client, alice).post(BASE + "queue/", {"post": record.pk, "action": "discard"})
    assert "Discard the post" in asked.content.decode()  # it asks first
    record.refresh_from_db()
    assert record.status == ListMessage.HELD
    confirmed = {"post": record.pk, "action": "discard", "confirmed": "yes"}
    client.post(BASE + "queue/", confirmed)
    record.refresh_from_db()
    assert record.status == ListMessage.DISCARDED
    assert Send.objects.count() == sends


def test_an_admin_bans_a_sender(client, alice, wanabidii):  # type: ignore[no-untyped-def]
    response = login(client, alice).post(
        BASE + "senders/", {"address": "mallory@example.com", "action": "ban"}
    )
    assert response.status_code == 302
    assert ListSender.objects.filter(address="mallory@example.com", action="ban").exists()
    record = held_post("Again")
    assert (record.status, record.rule) == (ListMessage.DISCARDED, "banned")


def test_a_viewer_cannot_change_senders(client, victor, wanabidii):  # type: ignore[no-untyped-def]
    login(client, victor)
    assert client.get(BASE + "senders/").status_code == 200
    response = client.post(BASE + "senders/", {"address": "m@example.com", "action": "accept"})
    assert response.status_code == 404


def test_the_queue_takes_a_fixed_number_of_queries(
    client, alice, wanabidii, django_assert_num_queries
):  # type: ignore[no-untyped-def]
    for n in range(5):
        held_post(f"Offer{n}")
    login(client, alice)
    client.get(BASE + "queue/")
    # session, user, account, membership, membership.account, list, held posts, their raw text
    with django_assert_num_queries(8):
        response = client.get(BASE + "queue/")
    assert response.content.count(b"Buy.") == 5
