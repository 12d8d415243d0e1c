"""The DNS records a Tidings installation needs, and whether they are published.

For each domain Tidings sends from (the mail domain, the accounts' sender domains, the domains
with a DKIM key) and the lists domain: MX (list mail and bounces come back to Tidings), SPF,
the DKIM public key of each configured key, DMARC; PTR and MTA-STS are advice (they live with
the hosting, not in the zone file).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import dkim.crypto
from django.conf import settings

from tidings.accounts.models import Account
from tidings.lib import dnsquery
from tidings.lib.mail import domain_of


@dataclass
class Record:
    name: str
    kind: str
    value: str
    status: str = ""  # "published", "missing", "different: …", "advice"


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _der(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _der_length(len(body)) + body


def _der_int(n: int) -> bytes:
    raw = n.to_bytes((n.bit_length() + 8) // 8, "big")  # a leading zero keeps it positive
    return _der(0x02, raw)


RSA_ALGORITHM = _der(0x30, bytes.fromhex("06092a864886f70d010101") + b"\x05\x00")


def dkim_public_record(private_pem: bytes) -> str:
    """The DKIM TXT value for a PEM RSA private key: v=DKIM1; k=rsa; p=<public key>."""
    key = dkim.crypto.parse_pem_private_key(private_pem)
    public = _der(0x30, _der_int(key["modulus"]) + _der_int(key["publicExponent"]))
    spki = _der(0x30, RSA_ALGORITHM + _der(0x03, b"\x00" + public))
    return f"v=DKIM1; k=rsa; p={base64.b64encode(spki).decode()}"


def dkim_keys() -> dict[str, bytes]:
    """The configured signing keys by domain."""
    keys: dict[str, bytes] = {}
    if settings.DKIM_KEY_DIR and Path(settings.DKIM_KEY_DIR).is_dir():
        for pem in sorted(Path(settings.DKIM_KEY_DIR).glob("*.pem")):
            keys[pem.stem.lower()] = pem.read_bytes()
    if settings.DKIM_KEY_FILE and Path(settings.DKIM_KEY_FILE).is_file():
        keys.setdefault(settings.DKIM_DOMAIN.lower(), Path(settings.DKIM_KEY_FILE).read_bytes())
    return keys


def sending_domains() -> list[str]:
    found = {settings.MAIL_DOMAIN.lower()} | set(dkim_keys())
    found |= {domain_of(a) for a in Account.objects.values_list("sender_address", flat=True)}
    return sorted(d for d in found if d)


def wanted(mx_host: str, ip: str) -> list[Record]:
    """The records to publish."""
    spf = f"v=spf1 ip4:{ip} -all" if ip and ":" not in ip else "v=spf1 mx -all"
    if ip and ":" in ip:
        spf = f"v=spf1 ip6:{ip} -all"
    records: list[Record] = []
    keys = dkim_keys()
    for domain in sending_domains():
        records.append(Record(domain, "TXT", spf))
        if domain in keys:
            name = f"{settings.DKIM_SELECTOR}._domainkey.{domain}"
            records.append(Record(name, "TXT", dkim_public_record(keys[domain])))
        records.append(
            Record(
                f"_dmarc.{domain}", "TXT", f"v=DMARC1; p=quarantine; rua=mailto:postmaster@{domain}"
            )
        )
    for domain in sorted({settings.MAIL_DOMAIN.lower(), settings.LISTS_DOMAIN.lower()}):
        records.append(Record(domain, "MX", f"10 {mx_host}."))
    if settings.LISTS_DOMAIN.lower() not in sending_domains():
        records.append(Record(settings.LISTS_DOMAIN.lower(), "TXT", spf))
    return records


def _normal(value: str) -> str:
    return " ".join(value.replace('"', "").split()).lower().rstrip(".")


def check(records: list[Record]) -> list[Record]:
    """Ask DNS for each record and say whether it is there as it should be."""
    for record in records:
        try:
            if record.kind == "TXT":
                found = dnsquery.txt(record.name) or []
            else:
                answer = dnsquery.resolver().resolve(record.name, record.kind)
                found = [rdata.to_text() for rdata in answer]
        except Exception as error:  # NXDOMAIN, no answer, a timeout: say it
            found = []
            record.status = f"missing ({type(error).__name__})"
            continue
        same = [f for f in found if _normal(f) == _normal(record.value)]
        if same:
            record.status = "published"
        elif record.kind == "TXT" and record.name.startswith("_dmarc."):
            dmarc = [f for f in found if f.lower().startswith("v=dmarc1")]
            record.status = f"published: {dmarc[0]}" if dmarc else "missing"
        elif record.kind == "TXT" and not record.name.count("._domainkey."):
            spf = [f for f in found if f.lower().startswith("v=spf1")]
            record.status = f"different: {spf[0]}" if spf else "missing"
        else:
            record.status = f"different: {', '.join(found)}" if found else "missing"
    return records


def advice(mx_host: str, ip: str) -> list[str]:
    return [
        f"PTR: the address that sends ({ip or 'your server'}) should resolve back to "
        f"{mx_host}, and {mx_host} to it (ask your hosting provider).",
        f'MTA-STS: publish _mta-sts.<domain> TXT "v=STSv1; id=1" and '
        f"https://mta-sts.<domain>/.well-known/mta-sts.txt naming {mx_host}, so senders "
        "insist on TLS to it.",
    ]


def default_mx() -> str:
    return (urlsplit(settings.BASE_URL).hostname or settings.MAIL_DOMAIN).lower()
