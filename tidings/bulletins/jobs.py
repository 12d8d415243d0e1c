"""Periodic jobs of the bulletins app, run by whichever worker gets to them first."""

from __future__ import annotations

from tidings.bulletins.actions import publish_due
from tidings.ops.periodic import periodic


@periodic("bulletins.scheduled", every=30)
def scheduled() -> None:
    """Publish the scheduled bulletins that are due."""
    publish_due()
