"""Periodic jobs of the bulletins app, run by whichever worker gets to them first."""

from __future__ import annotations

from tidings.bulletins.actions import prepare_stale_sends, publish_due
from tidings.bulletins.digests import send_due_digests
from tidings.lib.periodic import periodic


@periodic("bulletins.scheduled", every=30)
def scheduled() -> None:
    """Publish the scheduled bulletins that are due, and finish snapshots a crash interrupted."""
    publish_due()
    prepare_stale_sends()


@periodic("bulletins.digests", every=300)
def digests() -> None:
    """Send the subscribers' daily and weekly digests that are due."""
    send_due_digests()
