"""DMARC mitigation: posts from strict domains go out From the list; others keep their From."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

import dns.exception
import dns.resolver
import pytest

from tidings.delivery.models import Send
from tidings.inbound.actions import store_message
from tidings.inbound.router import route_one
from tidings.lists import dmarc
from tidings.lists.actions import allow_sender

pytestmark = pytest.mark.django_db

REAL_TXT_RECORDS = dmarc.txt_records  # kept before the stub replaces it

RECORDS = {
    "_dmarc.bigcorp.com": ["v=DMARC1; p=reject; rua=mailto:d@bigcorp.com"],
    "_dmarc.careful.org": ["v=DMARC1; p=quarantine"],
    "_dmarc.relaxed.org": ["v=DMARC1; p=none"],
    "_dmarc.parent.net": ["v=DMARC1; p=none; sp=reject"],
}


@pytest.fixture(autouse=True)
def dns_stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Answer DMARC lookups from RECORDS, and note each name asked for."""
    asked: list[str] = []

    def lookup(name: str) -> list[str] | None:
        asked.append(name)
        return RECORDS.get(name, [])

    monkeypatch.setattr(dmarc, "txt_records", lookup)
    dmarc._cache.clear()
    yield asked
    dmarc._cache.clear()


def relay_from(wanabidii, author: str, extra: str = "") -> EmailMessage:  # type: ignore[no-untyped-def]
    """Post as an allowed author and return the copy the list sends to its members."""
    _, _, address = author.rpartition("<")
    allow_sender(wanabidii, address.rstrip(">"))
    raw = (
        f"From: {author}\r\nTo: {wanabidii.address}\r\nSubject: Quarterly figures\r\n{extra}"
        "Message-ID: <q3@example.net>\r\n\r\nThe figures are in.\r\n"
    ).encode()
    store_message(raw, mail_from="", local_rcpts=[wanabidii.address], captured_rcpts=[])
    assert route_one()
    msg = message_from_bytes(bytes(Send.objects.get(kind=Send.LIST_POST).message), policy=default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_it_sends_a_post_from_a_reject_domain_from_the_list(wanabidii):  # type: ignore[no-untyped-def]
    msg = relay_from(wanabidii, "Alice Smith <alice@bigcorp.com>")
    wire = bytes(Send.objects.get().message)
    assert (
        b"\nFrom: \"'Alice Smith' via wanabidii\" <wanabidii@lists.tidings.localhost>\r\n" in wire
    )
    assert msg["X-Original-From"] == "Alice Smith <alice@bigcorp.com>"
    assert msg["Reply-To"] == "Alice Smith <alice@bigcorp.com>"


def test_it_sends_a_post_from_a_quarantine_domain_from_the_list(wanabidii):  # type: ignore[no-untyped-def]
    msg = relay_from(wanabidii, "bea@careful.org")
    (address,) = msg["From"].addresses
    assert (address.display_name, address.addr_spec) == (
        "'bea@careful.org' via wanabidii",
        "wanabidii@lists.tidings.localhost",
    )


def test_it_keeps_the_from_of_a_p_none_domain(wanabidii):  # type: ignore[no-untyped-def]
    msg = relay_from(wanabidii, "Cy <cy@relaxed.org>")
    assert msg["From"] == "Cy <cy@relaxed.org>"
    assert msg["X-Original-From"] is None


def test_it_keeps_the_authors_own_reply_to(wanabidii):  # type: ignore[no-untyped-def]
    msg = relay_from(wanabidii, "alice@bigcorp.com", extra="Reply-To: team@bigcorp.com\r\n")
    assert msg["Reply-To"] == "team@bigcorp.com"


def test_it_applies_the_subdomain_policy_of_the_organizational_domain(wanabidii):  # type: ignore[no-untyped-def]
    msg = relay_from(wanabidii, "dee@mail.parent.net")
    assert msg["X-Original-From"] == "dee@mail.parent.net"


def test_it_keeps_the_archive_naming_the_real_author(wanabidii):  # type: ignore[no-untyped-def]
    relay_from(wanabidii, "Alice Smith <alice@bigcorp.com>")
    assert wanabidii.posts.get().author_email == "alice@bigcorp.com"


def test_it_asks_dns_once_per_domain(dns_stub):  # type: ignore[no-untyped-def]
    assert dmarc.domain_policy("bigcorp.com") == "reject"
    assert dmarc.domain_policy("BigCorp.com") == "reject"
    assert dns_stub == ["_dmarc.bigcorp.com"]


def test_it_never_asks_dns_about_reserved_names(dns_stub):  # type: ignore[no-untyped-def]
    assert dmarc.domain_policy("example.com") == ""
    assert dmarc.domain_policy("tidings.localhost") == ""
    assert dns_stub == []


def test_it_ignores_a_domain_with_two_dmarc_records():  # type: ignore[no-untyped-def]
    assert dmarc.parse_record(["v=DMARC1; p=reject", "v=DMARC1; p=none"]) is None


def test_it_treats_a_dns_timeout_as_no_answer(monkeypatch):  # type: ignore[no-untyped-def]
    def timeout(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise dns.exception.Timeout()

    monkeypatch.setattr(dns.resolver.Resolver, "resolve", timeout)
    assert REAL_TXT_RECORDS("_dmarc.bigcorp.com") is None
