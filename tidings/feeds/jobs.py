"""The feeds app's periodic job, run by whichever worker gets to it first."""

from __future__ import annotations

from tidings.feeds.poll import poll_due
from tidings.lib.periodic import periodic


@periodic("feeds.poll", every=60)
def poll_feeds() -> None:
    """Poll the watches that are due (each every TIDINGS_FEEDS_POLL_EVERY seconds)."""
    poll_due()
