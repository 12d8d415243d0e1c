from __future__ import annotations

from django.db.models import Count

from tidings.delivery.models import Delivery, Send


def send_counts(send: Send) -> dict[str, int]:
    """Return how many of a send's recipients are in each state."""
    counts = {state: 0 for state, _ in Delivery.STATES}
    rows = send.deliveries.values("state").annotate(n=Count("id")).order_by()
    for row in rows:
        counts[row["state"]] = row["n"]
    counts["total"] = sum(counts[state] for state, _ in Delivery.STATES)
    return counts
