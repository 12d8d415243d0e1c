"""Spam filters see a clean sender: every kind of message scores below 1.0 with SpamAssassin
(Debian's package, local tests only), and the rules that fired are printed."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.mail_kinds import every_kind
from tidings.bulletins.actions import create_bulletin
from tidings.bulletins.email import BulletinRenderer

SPAMASSASSIN = shutil.which("spamassassin")
pytestmark = [
    pytest.mark.skipif(
        SPAMASSASSIN is None,
        reason="SpamAssassin is not installed (Debian package spamassassin; .ci/run installs it)",
    ),
    pytest.mark.django_db,
]
LIMIT = 1.0


def score(data: bytes) -> tuple[float, list[str]]:
    """Return SpamAssassin's score for a message and the rules that fired, network tests off."""
    assert SPAMASSASSIN is not None
    report = subprocess.run([SPAMASSASSIN, "-L", "-t"], input=data, capture_output=True,
                            timeout=120, check=True).stdout.decode("utf-8", "replace")  # fmt: skip
    found = re.search(r"X-Spam-Status: \w+, score=(-?[\d.]+)", report)
    assert found is not None, report[:2000]
    rules = re.findall(r"^\s*(-?\d+\.\d+) ([A-Z0-9_]+)\s", report, re.M)
    return float(found.group(1)), [f"{name} {points}" for points, name in rules]


def test_every_kind_of_message_scores_below_one(account, topic, wanabidii, alice) -> None:  # type: ignore[no-untyped-def]
    messages = every_kind(account, topic, wanabidii, "United States and Cuba Hold Migration Talks")
    scores = {}
    for kind, data in messages.items():
        points, rules = score(data)
        print(f"{kind}: {points} ({', '.join(rules) or 'no rule'})")
        scores[kind] = points
    assert all(points < LIMIT for points in scores.values()), scores


def test_a_two_line_bulletin_with_open_tracking_scores_below_one(account, topic, bob) -> None:  # type: ignore[no-untyped-def]
    bulletin = create_bulletin(
        account,
        subject="Office closed",
        body="The office is closed today.\n\nIt opens tomorrow at 9.",
        topics=[topic],
    )
    renderer = BulletinRenderer(bulletin)
    message_id = "<t1@tidings.localhost>"
    data = renderer.render(
        topic=topic, recipient=bob.email, subscriber_id=bob.pk, message_id=message_id, delivery_id=1
    )
    assert b"/t/o/" in data  # the open image is there
    points, rules = score(data)
    print(f"tracked bulletin: {points} ({', '.join(rules)})")
    assert points < LIMIT, rules
