"""/healthz for load balancers and /metrics for Prometheus."""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

from tidings.lib.logs import recent_errors
from tidings.lib.network import in_networks, parse_networks
from tidings.lib.web import client_ip
from tidings.ops.health import Collector, health

REGISTRY = CollectorRegistry()
REGISTRY.register(Collector())  # type: ignore[arg-type]
REQUESTS = Counter(
    "tidings_web_requests", "Web requests answered, by status class.", ["status"],
    registry=REGISTRY,
)  # fmt: skip
LATENCY = Histogram(
    "tidings_web_request_seconds",
    "Seconds to answer a web request.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
    registry=REGISTRY,
)


class RequestMetrics:
    """Count and time every request this process answers (for /metrics)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        LATENCY.observe(time.perf_counter() - started)
        REQUESTS.labels(f"{response.status_code // 100}xx").inc()
        return response


@never_cache
@require_http_methods(["GET", "HEAD"])
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when every check passes; 503 with the reasons when one fails. Server errors of the
    last hour are counted for the operator, never a failure: one bad page is no outage."""
    results = health()
    problems = {name: why for name, why in results.items() if why}
    body: dict[str, object] = {"status": "fail" if problems else "ok", "checks": results or {}}
    body["server_errors_last_hour"] = recent_errors(settings.DATA_DIR / "errors")
    return JsonResponse(body, status=503 if problems else 200)


def allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if token and given and hmac.compare_digest(given.encode(), token.encode()):
        return True
    return in_networks(client_ip(request), parse_networks(settings.METRICS_ALLOW))


@never_cache
@require_http_methods(["GET", "HEAD"])
def metrics(request: HttpRequest) -> HttpResponse:
    if not allowed(request):
        return HttpResponse("Not allowed.", status=403, content_type="text/plain")
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
