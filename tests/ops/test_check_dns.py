"""`tidings check-dns`: the records to publish, checked against a DNS server on loopback."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.delivery.test_dkim import make_key
from tidings.ops.dns import dkim_public_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(settings, tmp_path: Path) -> bytes:  # type: ignore[no-untyped-def]
    """A DKIM key for the mail domain; return the record openssl says publishes it."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    settings.DKIM_KEY_DIR = str(tmp_path)
    settings.DKIM_KEY_FILE = ""
    settings.DKIM_SELECTOR = "s2026"
    return make_key(tmp_path / f"{settings.MAIL_DOMAIN}.pem")


def test_the_dkim_record_is_the_keys_public_half(key: bytes, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    private = (tmp_path / f"{settings.MAIL_DOMAIN}.pem").read_bytes()
    assert dkim_public_record(private).encode() == key


def test_it_says_what_is_published_and_what_is_missing(dns_zone, key, settings, account) -> None:  # type: ignore[no-untyped-def]
    mail, lists = settings.MAIL_DOMAIN, settings.LISTS_DOMAIN
    dns_zone.txt(mail, "v=spf1 ip4:192.0.2.10 -all")
    dns_zone.txt(f"s2026._domainkey.{mail}", key.decode())
    dns_zone.txt(f"_dmarc.{mail}", "v=DMARC1; p=reject")
    dns_zone.mx(lists, "mail.example.gov")
    out = io.StringIO()
    with pytest.raises(SystemExit) as failed:
        call_command("check_dns", "--mx", "mail.example.gov", "--ip", "192.0.2.10", "--json",
                     stdout=out)  # fmt: skip
    assert failed.value.code == 1  # something is missing
    status = {(r["name"], r["type"]): r["status"] for r in json.loads(out.getvalue())["records"]}
    assert status[(mail, "TXT")] == "published"
    assert status[(f"s2026._domainkey.{mail}", "TXT")] == "published"
    assert status[(f"_dmarc.{mail}", "TXT")] == "published: v=DMARC1; p=reject"
    assert status[(lists, "MX")] == "published"
    assert status[(mail, "MX")].startswith("missing")
    assert status[(lists, "TXT")].startswith("missing")  # the lists domain's SPF


def test_it_prints_a_zone_without_asking_dns(key, settings) -> None:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    call_command("check_dns", "--mx", "mail.example.gov", "--no-lookup", stdout=out)
    text = out.getvalue()
    assert f"{settings.LISTS_DOMAIN}. IN MX 10 mail.example.gov." in text
    assert f's2026._domainkey.{settings.MAIL_DOMAIN}. IN TXT "v=DKIM1; k=rsa; p=' in text
    assert "PTR:" in text and "MTA-STS:" in text
