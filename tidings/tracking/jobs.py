"""The daily subscriber count of every topic, for the growth charts."""

from __future__ import annotations

from tidings.lib.periodic import periodic
from tidings.tracking.actions import snapshot_topics


@periodic("tracking.topic_days", every=3600)
def snapshot() -> None:
    # Hourly, overwriting today's row: the last run of a day leaves that day's closing count.
    snapshot_topics()
