"""A permanent failure without a status code counts as permanent, as Mailman reads it."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default

import pytest

from tidings.subscribers.bounces import classify
from tidings.subscribers.models import BounceEvent

EXIM = """From: Mail Delivery System <Mailer-Daemon@mx.example.org>
To: bounce+1.abc@tidings.localhost
Subject: Mail delivery failed: returning message to sender
X-Failed-Recipients: ann@example.org
Auto-Submitted: auto-replied

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  ann@example.org
    retry timeout exceeded
"""
QMAIL = """From: MAILER-DAEMON@mx.example.net
To: bounce+1.abc@tidings.localhost
Subject: failure notice

Hi. This is the qmail-send program at mx.example.net.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<bob@example.net>:
The mailbox is full, try again later.

--- Below this line is a copy of the message.
"""
SOFT = """From: MAILER-DAEMON@mx.example.net
To: bounce+1.abc@tidings.localhost
Subject: Delivery delayed

Your message to cid@example.net could not be delivered yet: mailbox full.
We will try again later.
"""


@pytest.mark.parametrize("raw", [EXIM, QMAIL], ids=["exim", "qmail"])
def test_a_classic_report_a_detector_reads_as_permanent_is_permanent(raw: str) -> None:
    verdict = classify(message_from_bytes(raw.replace("\n", "\r\n").encode(), policy=default))
    assert verdict.kind == BounceEvent.PERMANENT, verdict


def test_a_delay_notice_no_detector_claims_stays_temporary() -> None:
    verdict = classify(message_from_bytes(SOFT.replace("\n", "\r\n").encode(), policy=default))
    assert verdict.kind == BounceEvent.TEMPORARY, verdict
