"""/healthz for load balancers and /metrics for Prometheus, over HTTP."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from unittest.mock import ANY

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from tests.smtp_helpers import free_port, sink_server, tidings_smtpd
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.inbound.actions import store_message
from tidings.inbound.models import InboundMessage
from tidings.ops.models import Heartbeat
from tidings.ops.worker import Worker

pytestmark = pytest.mark.django_db(transaction=True)


def beat(seconds_ago: float = 0) -> None:
    seen = timezone.now() - timedelta(seconds=seconds_ago)
    Heartbeat.objects.update_or_create(
        worker="host:1", defaults={"roles": "send", "started_at": seen, "seen_at": seen}
    )


def test_it_is_healthy_when_everything_answers(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    beat()
    with tidings_smtpd(settings):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "", "smtp": "", "workers": "", "queue": "", "cache": ""},
        "server_errors_last_hour": ANY,  # other tests' (tests/invariants/test_errors_loud.py)
    }


def test_it_says_what_fails(client: Client, settings, wanabidii) -> None:  # type: ignore[no-untyped-def]
    settings.SMTP_LISTEN = f"127.0.0.1:{free_port()}"  # nobody listens there
    beat(seconds_ago=600)
    message = store_message(b"Subject: x\r\n\r\nx\r\n", mail_from="a@example.org",
                            local_rcpts=[wanabidii.address], captured_rcpts=[])  # fmt: skip
    InboundMessage.objects.filter(pk=message.pk).update(
        received_at=timezone.now() - timedelta(hours=1)
    )
    response = client.get("/healthz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"] == ""
    assert "does not answer" in checks["smtp"]
    assert checks["workers"].startswith("no worker has reported for")
    assert checks["queue"].startswith("a received message has waited")


def test_a_running_worker_reports_itself(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    with sink_server() as sink:
        asyncio.run(Worker(sink.relay, idle=0.05, roles=["route"]).run(once=True))
    beat_row = Heartbeat.objects.get()
    assert beat_row.roles == "route"
    assert timezone.now() - beat_row.seen_at < timedelta(seconds=30)


def test_metrics_speak_prometheus_to_allowed_clients_only(  # type: ignore[no-untyped-def]
    client: Client, settings, account, topic, bob
) -> None:
    publish_bulletin(create_bulletin(account, subject="News", body="Hi.", topics=[topic]))
    client.get("/healthz")  # one request for the web figures
    response = client.get("/metrics")  # the test client comes from 127.0.0.1
    assert response.status_code == 200
    families = {f.name: f for f in text_string_to_metric_families(response.content.decode())}
    queued = [s for s in families["tidings_deliveries"].samples if s.labels["state"] == "queued"]
    assert queued[0].value == 1
    assert "tidings_deliveries_sent" in families
    assert "tidings_inbound_waiting" in families
    assert any(s.value >= 1 for s in families["tidings_web_requests"].samples)
    assert "tidings_web_request_seconds" in families

    outside = client.get("/metrics", REMOTE_ADDR="203.0.113.7")
    assert outside.status_code == 403
    settings.METRICS_TOKEN = "scrape-secret-1"
    with_token = client.get(
        "/metrics", REMOTE_ADDR="203.0.113.7", HTTP_AUTHORIZATION="Bearer scrape-secret-1"
    )
    assert with_token.status_code == 200
    wrong = client.get("/metrics", REMOTE_ADDR="203.0.113.7", HTTP_AUTHORIZATION="Bearer guess")
    assert wrong.status_code == 403
