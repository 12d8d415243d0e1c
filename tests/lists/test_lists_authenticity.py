"""Nobody posts to an announce-only list by naming the accepted sender.

Posts arrive over a real SMTP socket; DKIM keys and SPF records come from a DNS server on
loopback (tests.dns_server).
"""

from __future__ import annotations

import base64
import smtplib
import subprocess
from email.utils import formatdate, make_msgid

import dkim
import pytest

from tests.smtp_helpers import tidings_smtpd
from tidings.inbound.router import route_one
from tidings.lists.actions import allow_sender
from tidings.lists.models import ListMessage

pytestmark = pytest.mark.django_db(transaction=True)

SENDER = "press@state.example"  # on the accept-list


@pytest.fixture
def announce(wanabidii):  # type: ignore[no-untyped-def]
    wanabidii.require_sender_authentication = True
    wanabidii.save(update_fields=["require_sender_authentication"])
    allow_sender(wanabidii, SENDER)
    return wanabidii


@pytest.fixture
def signing_key(tmp_path, dns_zone):  # type: ignore[no-untyped-def]
    """state.example's DKIM key, published at s1._domainkey.state.example."""
    key = tmp_path / "state.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "1024"], check=True, capture_output=True)
    public = subprocess.run(["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
                            check=True, capture_output=True).stdout  # fmt: skip
    dns_zone.published = "v=DKIM1; k=rsa; p=" + base64.b64encode(public).decode()
    dns_zone.txt("s1._domainkey.state.example", dns_zone.published)
    return key.read_bytes()


def post(
    port: int,
    *,
    mail_from: str,
    from_header: str = SENDER,
    extra: str = "",
    sign_with: bytes | None = None,
    domain: str = "state.example",
) -> ListMessage:
    raw = (
        f"From: {from_header}\r\nTo: wanabidii@lists.tidings.localhost\r\n{extra}"
        f"Subject: Statement\r\nDate: {formatdate()}\r\nMessage-ID: {make_msgid()}\r\n\r\n"
        "The Secretary will travel.\r\n"
    ).encode()
    if sign_with is not None:
        signature = dkim.sign(raw, b"s1", domain.encode(), sign_with,
                              include_headers=[b"From", b"To", b"Subject", b"Date"])  # fmt: skip
        raw = signature + raw
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.sendmail(mail_from, ["wanabidii@lists.tidings.localhost"], raw)
    assert route_one()
    return ListMessage.objects.order_by("-pk").first()  # type: ignore[return-value]


def test_naming_the_sender_in_from_alone_is_held(settings, announce, dns_zone) -> None:  # type: ignore[no-untyped-def]
    with tidings_smtpd(settings) as port:
        record = post(port, mail_from="mallory@attacker.example")
    assert (record.status, record.rule) == (ListMessage.HELD, "sender-not-authenticated")
    assert "sender not authenticated" in record.reason


def test_the_sender_header_or_envelope_alone_is_no_identity(settings, announce, dns_zone) -> None:  # type: ignore[no-untyped-def]
    with tidings_smtpd(settings) as port:
        in_sender = post(port, mail_from="m@attacker.example", from_header="m@attacker.example",
                         extra=f"Sender: {SENDER}\r\n")  # fmt: skip
        in_envelope = post(port, mail_from=SENDER, from_header="m@attacker.example")
    for record in (in_sender, in_envelope):
        assert record.status == ListMessage.HELD
        assert record.rule == "not-on-accept-list"


def test_an_aligned_dkim_signature_lets_the_sender_post(settings, announce, signing_key) -> None:  # type: ignore[no-untyped-def]
    with tidings_smtpd(settings) as port:
        record = post(port, mail_from="bounces@mail.state.example", sign_with=signing_key)
    assert record.status == ListMessage.ACCEPTED, record.reason
    assert "authenticated: dkim" in record.reason


def test_a_signature_of_another_domain_does_not(settings, announce, signing_key, dns_zone) -> None:  # type: ignore[no-untyped-def]
    # The attacker publishes the same key under their own domain and signs with it.
    dns_zone.txt("s1._domainkey.attacker.example", dns_zone.published)
    with tidings_smtpd(settings) as port:
        record = post(port, mail_from="m@attacker.example", sign_with=signing_key,
                      domain="attacker.example")  # fmt: skip
    assert record.rule == "sender-not-authenticated"


def test_spf_pass_for_an_aligned_envelope_sender_lets_the_sender_post(  # type: ignore[no-untyped-def]
    settings, announce, dns_zone
):
    dns_zone.txt("state.example", "v=spf1 ip4:127.0.0.0/8 -all")
    with tidings_smtpd(settings) as port:
        record = post(port, mail_from=SENDER)
    assert record.status == ListMessage.ACCEPTED, record.reason
    assert "authenticated: spf" in record.reason


def test_spf_fail_is_held(settings, announce, dns_zone) -> None:  # type: ignore[no-untyped-def]
    dns_zone.txt("state.example", "v=spf1 ip4:192.0.2.1 -all")
    with tidings_smtpd(settings) as port:
        record = post(port, mail_from=SENDER)
    assert record.rule == "sender-not-authenticated"


def test_a_spam_flag_is_held_even_from_an_authenticated_sender(  # type: ignore[no-untyped-def]
    settings, announce, dns_zone
):
    dns_zone.txt("state.example", "v=spf1 ip4:127.0.0.0/8 -all")
    with tidings_smtpd(settings) as port:
        record = post(port, mail_from=SENDER, extra="X-Spam-Flag: YES\r\n")
    assert (record.status, record.rule) == (ListMessage.HELD, "suspicious-header")


def test_a_silent_dns_server_does_not_stall_the_post(settings, announce) -> None:  # type: ignore[no-untyped-def]
    import socket

    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    settings.DNS_SERVERS = f"127.0.0.1:{silent.getsockname()[1]}"
    settings.DNS_TIMEOUT = 1
    import time

    started = time.monotonic()
    with tidings_smtpd(settings) as port:
        record = post(port, mail_from=SENDER)
    silent.close()
    assert record.rule == "sender-not-authenticated"
    assert time.monotonic() - started < 10


def test_dmarc_reject_rewrites_from_with_real_records(settings, wanabidii, dns_zone) -> None:  # type: ignore[no-untyped-def]
    """The DMARC policy comes from a real DNS answer (the loopback server), not a stub."""
    from tidings.delivery.models import Send
    from tidings.lists import dmarc

    dmarc._cache.clear()
    dns_zone.txt("_dmarc.rejecting.org", "v=DMARC1; p=reject; rua=mailto:d@rejecting.org")
    allow_sender(wanabidii, "ann@rejecting.org")
    with tidings_smtpd(settings) as port:
        record = post(port, mail_from="ann@rejecting.org", from_header="Ann <ann@rejecting.org>")
    dmarc._cache.clear()
    assert record.status == ListMessage.ACCEPTED
    wire = bytes(Send.objects.get(mailing_list=wanabidii).message)
    assert b"From: \"'Ann' via wanabidii\" <wanabidii@lists.tidings.localhost>" in wire
    assert "TXT _dmarc.rejecting.org" in dns_zone.asked


def test_a_relayed_post_carries_an_arc_seal_of_what_was_found(  # type: ignore[no-untyped-def]
    settings, announce, signing_key, dns_zone, tmp_path
):
    """The list seals the DKIM pass it saw; a receiver verifies the chain (dkimpy arc_verify)."""
    from tidings.delivery.models import Send
    from tidings.lib.dnsquery import dkim_txt

    key = tmp_path / "lists.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "1024"], check=True, capture_output=True)
    public = subprocess.run(["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
                            check=True, capture_output=True).stdout  # fmt: skip
    dns_zone.txt("s2026._domainkey.lists.tidings.localhost",
                 "v=DKIM1; k=rsa; p=" + base64.b64encode(public).decode())  # fmt: skip
    settings.DKIM_KEY_FILE = str(key)
    settings.DKIM_DOMAIN = settings.LISTS_DOMAIN
    settings.DKIM_SELECTOR = "s2026"
    with tidings_smtpd(settings) as port:
        record = post(port, mail_from="bounces@mail.state.example", sign_with=signing_key)
    assert record.status == ListMessage.ACCEPTED, record.reason
    sealed = bytes(Send.objects.get(kind=Send.LIST_POST).message)
    assert sealed.startswith(b"ARC-Seal:")
    assert b"dkim=pass header.d=state.example" in sealed
    verdict, _results, reason = dkim.arc_verify(sealed, dnsfunc=dkim_txt)
    assert verdict == dkim.CV_Pass, reason


def test_the_setting_defaults_by_policy_and_can_be_set_through_the_api(account) -> None:  # type: ignore[no-untyped-def]
    from tests.api.test_api_base import Api
    from tidings.api.actions import create_token

    _token, secret = create_token(account, name="t", role="admin")
    api = Api(secret)
    announce = api.post("/lists", {"name": "news"}).json()
    members = api.post("/lists", {"name": "talk", "posting_policy": "members"}).json()
    chosen = api.post("/lists", {"name": "alerts", "require_sender_authentication": False}).json()
    assert announce["require_sender_authentication"] is True
    assert members["require_sender_authentication"] is False
    assert chosen["require_sender_authentication"] is False
