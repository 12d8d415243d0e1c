"""Every kind of message Tidings writes, with long subjects in many scripts, checked with the
email package: folding keeps every space, encoded words and lines within their limits."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.policy import default

import pytest
from django.utils import timezone

from tidings.bulletins.actions import create_bulletin, send_test
from tidings.bulletins.email import BulletinRenderer
from tidings.delivery.models import Send
from tidings.inbound.actions import store_message
from tidings.inbound.router import route_one
from tidings.lib.mail import POLICY, fold_header
from tidings.lists.actions import reject_post
from tidings.lists.digests import send_digest
from tidings.lists.membership import request_join
from tidings.lists.models import ListMessage, Member
from tidings.subscribers.actions import request_subscription, subscribe
from tidings.subscribers.digests import digest_message
from tidings.subscribers.models import Subscriber

TITLES = {
    "latin": "United States and Cuba Hold Migration Talks in Washington " * 3,
    "accented": "Réunion à Genève : les délégations étrangères discutent des migrations " * 2,
    "curly": "“Migration Talks” — the Secretary’s remarks on ‘regular’ migration " * 2,  # noqa: RUF001
    "emoji": "🎉 Celebrating 🌍 partnerships: new 🤝 agreements signed 📜 on climate " * 2,
    "arabic": "الولايات المتحدة وكوبا تعقدان محادثات الهجرة في واشنطن العاصمة " * 2,
    "cjk": "美国和古巴在华盛顿举行移民问题会谈 双方讨论了合法移民和人口走私问题 " * 3,
}
ENCODED_WORD = re.compile(rb"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")


def check_wire(raw: bytes) -> None:
    """The limits every message must keep, on its wire form."""
    head, _, _body = raw.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        for word in ENCODED_WORD.findall(line):
            assert len(word) <= 75, word
        if len(line) > 78:
            # Only a header with no fold point left may run long (one long URL, say).
            assert b" " not in line.strip()[line.index(b":") + 2 :], line
        assert not line.endswith(b" "), line  # no trailing space before a fold
    in_qp = False
    for line in raw.split(b"\r\n"):
        if line.lower().startswith(b"content-transfer-encoding: quoted-printable"):
            in_qp = True
        elif in_qp and line.startswith(b"--"):
            in_qp = False
        elif in_qp:
            assert len(line) <= 76, line


@pytest.mark.parametrize("script", list(TITLES))
@pytest.mark.parametrize("length", [70, 140, 300])
def test_a_folded_subject_unfolds_to_itself(script: str, length: int) -> None:
    subject = TITLES[script][:length].strip()
    for value in (subject, f"[wanabidii] Press Releases: {subject}"):
        folded = fold_header("Subject", value).encode()
        check_wire(folded + b"\r\n")
        parsed = message_from_bytes(folded + b"\r\n", policy=default)
        assert str(parsed["Subject"]) == value


@pytest.mark.django_db
@pytest.mark.parametrize("script", list(TITLES))
def test_every_kind_of_message_keeps_the_limits(  # type: ignore[no-untyped-def]
    script, account, topic, wanabidii, alice, settings
):
    title = TITLES[script].strip()[:200]
    topic.name = title[:60].strip()
    topic.save()
    bob = subscribe(account, "bob@example.org", [topic], confirmed=True)
    bulletin = create_bulletin(
        account,
        subject=title,
        body="Hello **all**, see [the release](https://www.state.gov/r).",
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
    request_join(wanabidii, "joiner@example.org")
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
    send_digest(wanabidii, now=timezone.now() + timezone.timedelta(days=1))
    for send in Send.objects.exclude(pk__in=before):
        messages[f"{send.kind} #{send.pk}"] = bytes(send.message or b"")
    bulletin.published_at = timezone.now()
    digest = digest_message(Subscriber.objects.get(pk=bob.pk), "daily", [bulletin])
    messages["subscriber digest"] = digest.as_bytes(policy=POLICY)  # as send_message writes it
    assert len(messages) >= 7, list(messages)
    for kind, data in messages.items():
        try:
            check_wire(data)
        except AssertionError as error:
            raise AssertionError(f"{kind}: {error}") from None
    relayed = [d for k, d in messages.items() if k.startswith("list_post")]
    assert relayed
    assert str(message_from_bytes(relayed[0], policy=default)["Subject"]) == f"[wanabidii] {title}"
