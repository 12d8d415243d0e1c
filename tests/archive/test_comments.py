"""Comments: moderation modes, replies, rate limits, notices, and the moderation queue."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from tests.archive.test_archive import comment_data, post_url, press_release
from tidings.archive.actions import FIRST_TIME, RateLimited, add_comment, archive_post
from tidings.archive.models import Comment, Post
from tidings.delivery.models import Delivery, Send
from tidings.inbound.actions import store_message
from tidings.lists.models import MailingList


@pytest.fixture
def post(wanabidii: MailingList) -> Post:
    """The press release as the list received it, so its author hears about comments."""
    raw = press_release().as_bytes()
    inbound = store_message(raw, mail_from="a@example.org", local_rcpts=[], captured_rcpts=[])
    msg = message_from_bytes(raw, policy=default)
    assert isinstance(msg, EmailMessage)
    return archive_post(wanabidii, msg, inbound=inbound)


def notices() -> list[tuple[str, EmailMessage]]:
    found = []
    for delivery in Delivery.objects.filter(send__kind=Send.NOTICE).select_related("send"):
        msg = message_from_bytes(bytes(delivery.send.message), policy=default)
        assert isinstance(msg, EmailMessage)
        found.append((delivery.address, msg))
    return found


def comment(post: Post, who: str, **kwargs: object) -> Comment:
    return add_comment(post, name=who.title(), email=f"{who}@example.net", body="Hi", **kwargs)  # type: ignore[arg-type]


def set_mode(mailing_list: MailingList, mode: str) -> None:
    MailingList.objects.filter(pk=mailing_list.pk).update(comment_moderation=mode)
    mailing_list.comment_moderation = mode


@pytest.fixture
def staff_client(db: None, client: Client, account) -> Client:  # type: ignore[no-untyped-def]
    """The account's topic admin, who moderates its lists' comments in the console."""
    from tidings.accounts.models import Membership

    carol = User.objects.create_user("carol", "carol@example.net", "x")
    Membership.objects.create(user=carol, account=account, role=Membership.TOPIC_ADMIN)
    client.force_login(carol)
    return client


def queue_url(account) -> str:  # type: ignore[no-untyped-def]
    return reverse("archive_console:comments", args=[account.code, "wanabidii"])


def test_it_holds_a_first_time_commenter(post: Post) -> None:
    set_mode(post.mailing_list, FIRST_TIME)
    assert comment(post, "juma").status == Comment.HELD


def test_it_publishes_a_commenter_approved_before(post: Post) -> None:
    set_mode(post.mailing_list, FIRST_TIME)
    Comment.objects.filter(pk=comment(post, "juma").pk).update(status=Comment.PUBLISHED)
    assert comment(post, "juma").status == Comment.PUBLISHED


def test_it_holds_every_comment_when_all_are_held(post: Post) -> None:
    set_mode(post.mailing_list, MailingList.HELD)
    Comment.objects.filter(pk=comment(post, "juma").pk).update(status=Comment.PUBLISHED)
    assert comment(post, "juma").status == Comment.HELD


def test_it_shows_a_reply_under_its_comment(client: Client, post: Post) -> None:
    first = comment(post, "juma")
    comment(post, "other")
    data = comment_data(body="Replying to Juma.", parent=str(first.pk))
    client.post(post_url(post), data)
    reply = Comment.objects.get(body="Replying to Juma.")
    assert reply.parent == first
    html = client.get(post_url(post)).content.decode()
    assert html.index(f'id="comment-{first.pk}"') < html.index("Replying to Juma.")
    assert f'class="comment depth-1" id="comment-{reply.pk}"' in html


def test_it_prefills_the_reply_form_without_javascript(client: Client, post: Post) -> None:
    first = comment(post, "juma")
    html = client.get(post_url(post), {"reply": first.pk}).content.decode()
    assert "Replying to Juma." in html
    assert f'name="parent" value="{first.pk}"' in html


def test_it_limits_comments_per_ip_address(post: Post, settings) -> None:  # type: ignore[no-untyped-def]
    settings.ARCHIVE_COMMENT_RATE_LIMIT = 2
    comment(post, "a", ip="192.0.2.1")
    comment(post, "b", ip="192.0.2.1")
    comment(post, "c", ip="192.0.2.2")
    with pytest.raises(RateLimited):
        comment(post, "d", ip="192.0.2.1")


def test_it_answers_429_when_an_address_posts_too_often(
    client: Client, post: Post, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.ARCHIVE_COMMENT_RATE_LIMIT = 1
    client.post(post_url(post), comment_data())
    response = client.post(post_url(post), comment_data(body="Again"))
    assert response.status_code == 429
    assert "please wait" in response.content.decode()
    assert Comment.objects.count() == 1


def test_it_tells_the_author_and_commenters_who_asked(post: Post) -> None:
    comment(post, "juma", notify=True)
    comment(post, "quiet")
    comment(post, "third")
    sent = [address for address, _ in notices()]
    assert sent.count("usstatebpa@public.govdelivery.com") == 3
    assert sent.count("juma@example.net") == 2  # about "quiet" and "third", not about itself
    assert "quiet@example.net" not in sent


def test_it_never_tells_authors_of_imported_mail(wanabidii: MailingList) -> None:
    imported = archive_post(wanabidii, press_release())
    comment(imported, "juma")
    assert notices() == []


def test_it_notifies_only_once_a_held_comment_is_approved(staff_client: Client, post: Post) -> None:
    set_mode(post.mailing_list, MailingList.HELD)
    held = comment(post, "juma")
    assert notices() == []
    staff_client.post(
        queue_url(post.mailing_list.account), {"comment": held.pk, "action": "approve"}
    )
    held.refresh_from_db()
    assert held.status == Comment.PUBLISHED
    assert [address for address, _ in notices()] == ["usstatebpa@public.govdelivery.com"]


def test_it_stops_notices_from_the_link_in_one(client: Client, post: Post) -> None:
    comment(post, "juma", notify=True)
    comment(post, "other")
    (_, msg), *_ = [n for n in notices() if n[0] == "juma@example.net"]
    body = msg.get_content()
    link = re.search(r"Stop these emails: (\S+)", body)
    assert link is not None
    path = link.group(1).split("://", 1)[1].split("/", 1)[1]
    response = client.post("/" + path)
    assert response.status_code == 200
    before = len(notices())
    comment(post, "third")
    assert "juma@example.net" not in [a for a, _ in notices()[before:]]


def test_it_refuses_a_forged_unsubscribe_link(client: Client, post: Post) -> None:
    url = reverse("archive:comment_unsubscribe", args=["wanabidii", post.slug])
    assert client.post(url + "?t=forged").status_code == 400


def test_it_shows_the_moderation_queue_to_staff(staff_client: Client, post: Post) -> None:
    set_mode(post.mailing_list, MailingList.HELD)
    comment(post, "juma")
    html = staff_client.get(queue_url(post.mailing_list.account)).content.decode()
    assert "Juma &lt;juma@example.net&gt;" in html
    assert ">Approve<" in html


def test_it_keeps_the_moderation_queue_from_readers(
    client: Client, post: Post, victor, oscar
) -> None:  # type: ignore[no-untyped-def]
    url = queue_url(post.mailing_list.account)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("console:login"))
    client.force_login(oscar)  # another agency's admin
    assert client.get(url).status_code == 404
    client.force_login(victor)  # a viewer sees the queue but may not decide
    assert client.get(url).status_code == 200
    assert client.post(url, {"comment": 1, "action": "approve"}).status_code == 404


def test_it_rejects_a_held_comment(staff_client: Client, post: Post) -> None:
    set_mode(post.mailing_list, MailingList.HELD)
    held = comment(post, "spammer")
    url = queue_url(post.mailing_list.account)
    staff_client.post(url, {"comment": held.pk, "action": "reject"})
    held.refresh_from_db()
    assert held.status == Comment.REJECTED
    assert "spammer" not in Client().get(post_url(post)).content.decode().lower()


def test_a_comment_notice_speaks_the_members_language(post: Post) -> None:
    from tests.subscribers.test_languages import said
    from tidings.lists.membership import add_member

    add_member(post.mailing_list, "Juma@Example.net", language="sw")  # any case
    comment(post, "juma", notify=True)
    comment(post, "third")
    subjects = {address: msg["Subject"] for address, msg in notices()}
    subject = post.subject
    assert subjects["juma@example.net"] == said(
        "sw", "New comment on: %(subject)s", subject=subject
    )
    assert subjects["usstatebpa@public.govdelivery.com"] == f"New comment on: {subject}"
