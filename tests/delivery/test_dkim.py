from __future__ import annotations

import base64
import re
import subprocess
from email.parser import BytesHeaderParser
from email.policy import default
from pathlib import Path

import dkim
import pytest

from tests.smtp_helpers import sink_server
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.delivery import dkim as delivery_dkim
from tidings.delivery.worker import process_chunk
from tidings.inbound.actions import store_message
from tidings.inbound.router import route_one
from tidings.lists import dmarc
from tidings.lists.actions import allow_sender

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def dkim_key(settings, tmp_path):  # type: ignore[no-untyped-def]
    """Configure a fresh RSA key; return the DNS TXT record that publishes it."""
    key = tmp_path / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    settings.DKIM_KEY_FILE = str(key)
    settings.DKIM_SELECTOR = "s2026"
    settings.DKIM_DOMAIN = "tidings.localhost"
    return b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


def test_it_signs_what_receivers_check_and_the_signature_verifies(dkim_key, account, topic, bob):  # type: ignore[no-untyped-def]
    publish_bulletin(create_bulletin(account, subject="Signed", body="Body.", topics=[topic]))
    with sink_server() as sink:
        process_chunk(sink.relay)
    ((_, _, data),) = sink.received

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"s2026._domainkey.tidings.localhost."
        return dkim_key

    assert dkim.verify(data, dnsfunc=dns)
    signature = data.split(b"\r\n\r\n", 1)[0].decode()
    signed = signature.split("h=", 1)[1].split(";", 1)[0].replace("\r\n", "").replace(" ", "")
    for header in ("from", "list-unsubscribe", "list-unsubscribe-post"):
        assert header in signed.lower().split(":")


def test_it_fails_verification_when_the_unsubscribe_link_is_altered(dkim_key, account, topic, bob):  # type: ignore[no-untyped-def]
    publish_bulletin(create_bulletin(account, subject="Signed", body="Body.", topics=[topic]))
    with sink_server() as sink:
        process_chunk(sink.relay)
    ((_, _, data),) = sink.received
    tampered = data.replace(b"one-click/", b"one-click/x", 1)

    assert not dkim.verify(tampered, dnsfunc=lambda name, timeout=5: dkim_key)


def make_key(path: Path) -> bytes:
    """Write a fresh RSA key to path; return the DNS TXT record that publishes it."""
    subprocess.run(
        ["openssl", "genrsa", "-out", str(path), "1024"], check=True, capture_output=True
    )
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(path), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    return b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


@pytest.fixture
def key_dir(settings, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """A key directory for the mail domain and the lists domain; return their DNS records."""
    settings.DKIM_KEY_DIR = str(tmp_path)
    settings.DKIM_KEY_FILE = ""
    settings.DKIM_SELECTOR = "s2026"
    records = {}
    for domain in (settings.MAIL_DOMAIN, settings.LISTS_DOMAIN):
        records[f"s2026._domainkey.{domain}.".encode()] = make_key(tmp_path / f"{domain}.pem")
    return records


def signing_domain_of(data: bytes) -> str:
    signature = data.split(b"\r\n\r\n", 1)[0].decode().replace("\r\n", "")
    return re.search(r"\bd=([^;]+);", signature).group(1).strip()  # type: ignore[union-attr]


def relay_list_post(wanabidii, author: str) -> list[bytes]:  # type: ignore[no-untyped-def]
    """Post to the list as author and return what its members receive."""
    allow_sender(wanabidii, author)
    raw = (
        f"From: {author}\r\nTo: {wanabidii.address}\r\nSubject: Figures\r\n"
        "Message-ID: <f1@example.net>\r\n\r\nThe figures are in.\r\n"
    ).encode()
    store_message(raw, mail_from=author, local_rcpts=[wanabidii.address], captured_rcpts=[])
    assert route_one()
    with sink_server() as sink:
        process_chunk(sink.relay)
    return [data for _, _, data in sink.received]


def test_it_signs_a_relayed_list_post_with_the_lists_domain_key(key_dir, settings, wanabidii):  # type: ignore[no-untyped-def]
    copies = relay_list_post(wanabidii, "usstatebpa@tidings.localhost")

    assert len(copies) == 2  # carol and dave
    for data in copies:
        assert signing_domain_of(data) == settings.LISTS_DOMAIN
        assert dkim.verify(data, dnsfunc=lambda name, timeout=5: key_dir[name])


def test_it_signs_a_post_with_a_rewritten_from_with_the_lists_domain_key(  # type: ignore[no-untyped-def]
    key_dir, settings, wanabidii, monkeypatch
):
    monkeypatch.setattr(dmarc, "txt_records", lambda name: ["v=DMARC1; p=reject"])
    dmarc._cache.clear()
    (data, _) = relay_list_post(wanabidii, "alice@bigcorp.com")
    dmarc._cache.clear()

    headers = BytesHeaderParser(policy=default).parsebytes(data)
    assert headers["From"].addresses[0].addr_spec == wanabidii.address  # rewritten
    assert headers["X-Original-From"] == "alice@bigcorp.com"
    assert signing_domain_of(data) == settings.LISTS_DOMAIN
    assert dkim.verify(data, dnsfunc=lambda name, timeout=5: key_dir[name])


def test_it_signs_a_bulletin_with_the_mail_domain_key(key_dir, settings, account, topic, bob):  # type: ignore[no-untyped-def]
    publish_bulletin(create_bulletin(account, subject="Signed", body="Body.", topics=[topic]))
    with sink_server() as sink:
        process_chunk(sink.relay)
    ((_, _, data),) = sink.received

    assert signing_domain_of(data) == settings.MAIL_DOMAIN
    assert dkim.verify(data, dnsfunc=lambda name, timeout=5: key_dir[name])


def test_it_leaves_mail_unsigned_when_no_key_is_configured(settings, monkeypatch):  # type: ignore[no-untyped-def]
    settings.DKIM_KEY_DIR = ""
    settings.DKIM_KEY_FILE = ""
    message = b"From: a@tidings.localhost\r\nSubject: x\r\n\r\nbody\r\n"
    assert delivery_dkim.sign(message) == message
