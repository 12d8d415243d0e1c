"""Periodic jobs of the subscribers app, run by whichever worker gets to them first."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tidings.lib.periodic import periodic
from tidings.subscribers.import_jobs import process_one_import
from tidings.subscribers.models import RateBucket


@periodic("subscribers.throttles", every=3600)
def forget_old_throttles() -> None:
    """Delete rate-limit buckets nobody has touched for a day (full again long since)."""
    RateBucket.objects.filter(stamp__lt=timezone.now() - timedelta(days=1)).delete()


@periodic("subscribers.imports", every=5)
def imports() -> None:
    """Run the CSV imports queued from the console, one per run."""
    process_one_import()
