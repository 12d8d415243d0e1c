"""What /healthz and /metrics report: the database, the SMTP listener, the workers, the queues,
the page cache."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from tidings.delivery.models import Delivery, Send
from tidings.delivery.smtp import parse_listen
from tidings.inbound.models import InboundMessage
from tidings.lib import pagecache
from tidings.ops.models import Heartbeat
from tidings.subscribers.models import BounceEvent


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return ""


def check_smtp() -> str:
    host, port = parse_listen(settings.SMTP_LISTEN)
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - listening everywhere; connect locally
        host = "127.0.0.1"
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as error:
        return f"the SMTP server on {host}:{port} does not answer ({error.strerror or error})"
    return ""


def check_workers() -> str:
    silence = timedelta(seconds=settings.HEALTH_WORKER_SILENCE_SECONDS)
    latest = Heartbeat.objects.order_by("-seen_at").values_list("seen_at", flat=True).first()
    if latest is None:
        return "no worker has ever reported"
    quiet = timezone.now() - latest
    if quiet > silence:
        return f"no worker has reported for {int(quiet.total_seconds())} s"
    return ""


def check_waiting() -> str:
    oldest = (
        InboundMessage.objects.filter(state=InboundMessage.NEW)
        .aggregate(oldest=Min("received_at"))
        .get("oldest")
    )
    if oldest is None:
        return ""
    waited = (timezone.now() - oldest).total_seconds()
    if waited > settings.HEALTH_MAX_WAITING_SECONDS:
        return f"a received message has waited {int(waited)} s to be routed"
    return ""


CHECKS = {
    "database": check_database,
    "smtp": check_smtp,
    "workers": check_workers,
    "queue": check_waiting,
    "cache": pagecache.check,
}


def health() -> dict[str, str]:
    """Each check's problem ("" when it is fine); a check that fails outright says why."""
    results = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as error:  # the database away, say: that is the answer
            results[name] = f"failed: {error}"
            if name == "database":
                connection.close()
                return results | dict.fromkeys(set(CHECKS) - {"database"}, "not checked")
    return results


class Collector:
    """Figures read from the database when Prometheus scrapes (one query each)."""

    def collect(self) -> Iterator[Metric]:
        sends = GaugeMetricFamily("tidings_sends", "Sends by state.", labels=["state"])
        for state, n in Send.objects.values_list("state").annotate(n=Count("id")).order_by():
            sends.add_metric([state], n)
        yield sends
        deliveries = GaugeMetricFamily(
            "tidings_deliveries", "Deliveries (one per recipient) by state.", labels=["state"]
        )
        rows = Delivery.objects.values_list("state").annotate(n=Count("id")).order_by()
        counts = dict(rows)
        for state, n in counts.items():
            deliveries.add_metric([state], n)
        yield deliveries
        sent = CounterMetricFamily(
            "tidings_deliveries_sent", "Deliveries sent; rate() gives deliveries per second."
        )
        sent.add_metric([], counts.get(Delivery.SENT, 0))
        yield sent
        waiting = GaugeMetricFamily("tidings_inbound_waiting", "Received messages not yet routed.")
        waiting.add_metric([], InboundMessage.objects.filter(state=InboundMessage.NEW).count())
        yield waiting
        reports = CounterMetricFamily(
            "tidings_bounce_reports", "Bounce and complaint reports by kind.", labels=["kind"]
        )
        for kind, n in BounceEvent.objects.values_list("kind").annotate(n=Count("id")).order_by():
            reports.add_metric([kind], n)
        yield reports
