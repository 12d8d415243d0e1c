from __future__ import annotations

import base64
import subprocess

import dkim
import pytest

from tests.smtp_helpers import sink_server
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.delivery.worker import process_chunk

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
