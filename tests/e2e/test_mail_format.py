"""Every kind of message Tidings writes, with long subjects in many scripts, checked with the
email package: folding keeps every space, encoded words and lines within their limits."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.policy import default

import pytest

from tests.mail_kinds import every_kind
from tidings.lib.mail import fold_header

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
def test_every_kind_of_message_keeps_the_limits(script, account, topic, wanabidii, alice) -> None:  # type: ignore[no-untyped-def]
    messages = every_kind(account, topic, wanabidii, TITLES[script].strip()[:200])
    assert len(messages) >= 7, list(messages)
    for kind, data in messages.items():
        try:
            check_wire(data)
        except AssertionError as error:
            raise AssertionError(f"{kind}: {error}") from None
