"""An address that leaves during a running send gets nothing from the remaining chunks."""

from __future__ import annotations

import pytest

from tests.smtp_helpers import captured_for, tidings_smtpd
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.delivery.models import Delivery
from tidings.delivery.worker import process_chunk
from tidings.ops.worker import drain
from tidings.subscribers import actions

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_sends_nothing_more_after_an_unsubscribe_mid_send(account, topic, bob, settings):  # type: ignore[no-untyped-def]
    ann = actions.subscribe(account, "ann@example.org", [topic], confirmed=True)
    settings.DELIVERY_CHUNK_SIZE = 1
    with tidings_smtpd(settings):
        bulletin = create_bulletin(account, subject="News", body="Body", topics=[topic])
        publish_bulletin(bulletin)
        assert process_chunk() == 1  # bob's row (the first) goes out
        actions.unsubscribe_all(ann)
        drain()
    assert captured_for("ann@example.org") == []
    assert Delivery.objects.get(address="ann@example.org").state == Delivery.CANCELLED
    assert len(captured_for("bob@example.org")) == 1
