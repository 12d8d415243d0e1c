"""Periodic jobs (digests, expiries, feed polls) run by whichever worker gets to them first.

Apps register jobs in tidings.lib.periodic; the worker's jobs role calls run_due(), which claims
a due job with a conditional UPDATE so that exactly one worker runs it per period.
"""

from __future__ import annotations

import logging
import traceback
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from tidings.lib.periodic import JOBS
from tidings.ops.models import JobRun

log = logging.getLogger("tidings.periodic")


def claim(name: str, every: int) -> bool:
    now = timezone.now()
    JobRun.objects.get_or_create(name=name)
    due = Q(last_started_at__isnull=True) | Q(last_started_at__lte=now - timedelta(seconds=every))
    return JobRun.objects.filter(due, name=name).update(last_started_at=now) == 1


def run_due() -> bool:
    """Run every job whose period has passed; return whether any ran."""
    ran = False
    for name, (every, func) in list(JOBS.items()):
        if not claim(name, every):
            continue
        ran = True
        error = ""
        try:
            func()
        except Exception:
            log.exception("periodic job %s failed", name)
            error = traceback.format_exc(limit=5)
        JobRun.objects.filter(name=name).update(last_finished_at=timezone.now(), last_error=error)
    return ran
