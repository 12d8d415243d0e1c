"""Every message of the corpus archives, and shapes of our own, goes through a list over SMTP:
each is relayed or held with a reason, none is lost, no routing fails, relayed copies parse."""

from __future__ import annotations

import mailbox
import smtplib
from email import message_from_bytes
from email.errors import MissingHeaderBodySeparatorDefect
from email.message import EmailMessage
from email.policy import default

import pytest

from tests.paths import SHARED
from tests.smtp_helpers import tidings_smtpd
from tidings.delivery.models import Send
from tidings.inbound.models import InboundMessage
from tidings.inbound.router import route_one
from tidings.lists import dmarc
from tidings.lists.models import ListMessage, MailingList

pytestmark = pytest.mark.django_db(transaction=True)

LIST = "wanabidii@lists.tidings.localhost"
CORPUS = SHARED / "corpus" / "mbox"

SHAPES = {
    "alternative": (
        'Subject: Both\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="a"'
        "\r\n\r\n--a\r\nContent-Type: text/plain\r\n\r\nplain\r\n--a\r\nContent-Type: text/html"
        "\r\n\r\n<p>html</p>\r\n--a--\r\n"
    ),
    "attachment": (
        'Subject: File\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="m"\r\n\r\n'
        "--m\r\nContent-Type: text/plain\r\n\r\nsee file\r\n--m\r\nContent-Type: application/pdf"
        '\r\nContent-Disposition: attachment; filename="a.pdf"\r\nContent-Transfer-Encoding: '
        "base64\r\n\r\nJVBERi0xLjQK\r\n--m--\r\n"
    ),
    "latin1": (
        "Subject: =?iso-8859-1?q?Caf=E9?=\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        "caf\xe9 cr\xe8me\r\n"
    ),
    "koi8": (
        "Subject: =?koi8-r?b?8NLJ18XU?=\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=koi8-r\r\n\r\n\xf0\xd2\xc9\xd7\xc5\xd4\r\n"
    ),
    "unknown-charset": (
        "Subject: odd\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=x-nonsense\r\n"
        "\r\nbody\r\n"
    ),
    "malformed-header": (
        "Subject: broken\r\nX-Bad header without colon\r\nDate: yesterday\r\n\r\nb\r\n"
    ),
    "no-date": "Subject: no date\r\n\r\nNo Date header at all.\r\n",
    "html-only": (
        "Subject: html\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        "<html><body><p>Only <b>HTML</b></p></body></html>\r\n"
    ),
    "no-from": "To: someone\r\nSubject: who?\r\n\r\nNo From.\r\n",
}


def corpus_messages() -> list[bytes]:
    found = []
    for path in sorted(CORPUS.rglob("*.mbox")):
        box = mailbox.mbox(str(path), create=False)
        found += [box.get_bytes(key) for key in box.iterkeys()]
    for shape in SHAPES.values():
        head = "" if shape.startswith("To:") else "From: Shaper <shaper@example.org>\r\n"
        found.append((head + shape).encode("latin-1"))
    return found


def on_the_wire(raw: bytes) -> bytes:
    """Name the list in Cc (the archives were sent to other lists) with CRLF line endings."""
    lines = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
    return b"\r\n".join([b"Cc: " + LIST.encode(), *lines])


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus is not here")
def test_every_corpus_message_is_relayed_or_held_over_smtp(settings, wanabidii, monkeypatch):  # type: ignore[no-untyped-def]
    settings.SMTP_SENDER_MESSAGES_PER_MINUTE = 0
    monkeypatch.setattr(dmarc, "txt_records", lambda name: [])
    MailingList.objects.filter(pk=wanabidii.pk).update(posting_policy=MailingList.OPEN_POSTING)
    messages = corpus_messages()
    accepted, refused = 0, []
    with tidings_smtpd(settings) as port, smtplib.SMTP("127.0.0.1", port) as client:
        for raw in messages:
            try:
                client.sendmail("sender@example.org", [LIST], on_the_wire(raw))
                accepted += 1
            except smtplib.SMTPDataError as exc:  # refused with an answer: the sender knows
                refused.append(exc.smtp_error)
    while route_one():
        pass
    # Lines over RFC 5321's 1000 octets are refused at DATA; nothing else may be.
    assert all(b"Line too long" in error for error in refused)
    assert accepted + len(refused) == len(messages) > 900
    assert len(refused) < 0.02 * len(messages)
    assert InboundMessage.objects.count() == accepted
    assert not InboundMessage.objects.filter(state=InboundMessage.FAILED).exists()
    decided = ListMessage.objects.values_list("status", "reason")
    assert len(decided) == accepted
    assert all(reason for status, reason in decided if status != ListMessage.ACCEPTED)
    relayed = Send.objects.filter(kind=Send.LIST_POST)
    assert relayed.count() == ListMessage.objects.filter(status=ListMessage.ACCEPTED).count()
    assert relayed.count() > 0.8 * accepted
    rules = sorted(ListMessage.objects.exclude(status=ListMessage.ACCEPTED).values_list("rule"))
    print(
        f"corpus: {accepted} accepted, {len(refused)} refused, {relayed.count()} relayed; {rules}"
    )
    for send in relayed.iterator():
        msg = message_from_bytes(bytes(send.message), policy=default)
        assert isinstance(msg, EmailMessage)
        assert not any(isinstance(d, MissingHeaderBodySeparatorDefect) for d in msg.defects)
        assert msg["List-Id"] and LIST in msg.get_all("X-BeenThere", [])
        str(msg["Subject"])
        assert msg.as_bytes(policy=default)  # re-serializes: no part is damaged
