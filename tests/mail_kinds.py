"""Every kind of message Tidings writes, rendered for checks by tools it did not write (the
email package, SpamAssassin)."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes
from email.policy import default

from django.utils import timezone

from tidings.bulletins.actions import _copies, courtesy_recipients, create_bulletin, send_test
from tidings.bulletins.digests import digest_message
from tidings.bulletins.email import BulletinRenderer
from tidings.delivery.models import Send
from tidings.inbound.actions import store_message
from tidings.inbound.router import route_one
from tidings.lib.mail import POLICY
from tidings.lists.actions import reject_post
from tidings.lists.digests import send_digest
from tidings.lists.membership import confirm, request_join
from tidings.lists.models import ListMessage, Member
from tidings.subscribers.actions import request_subscription, subscribe
from tidings.subscribers.models import Subscriber


def every_kind(account, topic, wanabidii, title: str, body: str = "") -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    """Return kind → the message's bytes as they go on the wire: a bulletin (tracked), a test
    send, confirmations (subscribe, list join), a moderator notice, a rejection, a relayed post,
    a list digest and a subscriber digest."""
    body = body or "Hello **all**, see [the release](https://www.state.gov/r)."
    topic.name = title[:60].strip()
    topic.save()
    bob = subscribe(account, "bob@example.org", [topic], confirmed=True)
    bulletin = create_bulletin(
        account,
        subject=title,
        body=body,
        topics=[topic],
    )
    renderer = BulletinRenderer(bulletin)
    messages = {
        "bulletin": renderer.render(
            topic=topic,
            recipient=bob.email,
            subscriber_id=bob.pk,
            message_id="<m1@tidings.localhost>",
            delivery_id=1,
        )
    }
    subject_back = str(message_from_bytes(messages["bulletin"], policy=default)["Subject"])
    assert subject_back == f"{topic.name}: {title}"

    before = set(Send.objects.values_list("pk", flat=True))
    send_test(bulletin, ["tester@example.org"])
    request_subscription(account, "new@example.org", [topic])
    joining = request_join(wanabidii, "joiner@example.org")
    assert joining is not None
    confirm(joining)  # the welcome message
    # The admins' courtesy copy, as send_bulletin() queues it.
    _copies(bulletin, courtesy_recipients(account) or ["admin@example.gov"], "[Courtesy copy] ")
    raw = (
        f"From: Mallory <mallory@example.com>\r\nTo: {wanabidii.address}\r\nSubject: {title}\r\n"
        "Message-ID: <p1@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n" + "A long line of a post. " * 20 + "\r\n"
    ).encode()
    store_message(
        raw, mail_from="mallory@example.com", local_rcpts=[wanabidii.address], captured_rcpts=[]
    )
    assert route_one()
    reject_post(ListMessage.objects.get(), "Off topic " * 10)
    accepted = (
        f"From: {account.sender_address}\r\nTo: {wanabidii.address}\r\nSubject: {title}\r\n"
        "Message-ID: <p2@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\nThe release. " + "Words " * 40 + "\r\n"
    ).encode()
    store_message(
        accepted,
        mail_from=account.sender_address,
        local_rcpts=[wanabidii.address],
        captured_rcpts=[],
    )
    assert route_one()
    Member.objects.filter(mailing_list=wanabidii).update(delivery_mode=Member.DIGEST)
    send_digest(wanabidii, now=timezone.now() + timedelta(minutes=1))
    for send in Send.objects.exclude(pk__in=before):
        data = bytes(send.message or b"")
        subject = str(message_from_bytes(data, policy=default)["Subject"])[:40]
        messages[f"{send.kind} #{send.pk} ({subject})"] = data
    bulletin.published_at = timezone.now()
    digest = digest_message(Subscriber.objects.get(pk=bob.pk), "daily", [bulletin])
    messages["subscriber digest"] = digest.as_bytes(policy=POLICY)  # as send_message writes it
    assert len(messages) >= 7, list(messages)
    relayed = [d for k, d in messages.items() if k.startswith("list_post")]
    assert relayed
    assert str(message_from_bytes(relayed[0], policy=default)["Subject"]) == f"[wanabidii] {title}"
    return messages
