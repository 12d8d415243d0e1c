"""Periodic jobs of tracking: the daily subscriber count of every topic, old hit batches."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tidings.lib.periodic import periodic
from tidings.tracking.actions import snapshot_topics
from tidings.tracking.models import HitBatch


@periodic("tracking.topic_days", every=3600)
def snapshot() -> None:
    # Hourly, overwriting today's row: the last run of a day leaves that day's closing count.
    snapshot_topics()


@periodic("tracking.hit_batches", every=3600)
def forget_hit_batches() -> None:
    # A journal is replayed within seconds of its process's end; a week covers a machine that
    # was off for days.
    HitBatch.objects.filter(at__lt=timezone.now() - timedelta(days=7)).delete()
