"""CSV imports started from the console: the upload becomes a job row that a worker claims.

The file is kept under the data dir while the job waits; the worker claims the oldest queued
job with a conditional UPDATE (0 rows updated: another worker got it), imports it with the same
code as `tidings import-subscribers`, advances `rows_done` as it goes, and writes the per-row
error report beside the file. A running job whose heartbeat stopped (the worker died) is claimed
again; importing a file twice adds nothing twice.
"""

from __future__ import annotations

import csv
import logging
from datetime import timedelta
from pathlib import Path
from typing import IO

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tidings.accounts.models import Account
from tidings.lib.spreadsheet import SafeWriter
from tidings.subscribers.importer import import_subscribers, read_rows
from tidings.subscribers.models import ImportJob
from tidings.topics.models import Topic

log = logging.getLogger("tidings.subscribers.imports")


def import_dir() -> Path:
    path = Path(settings.DATA_DIR) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def upload_path(job: ImportJob) -> Path:
    return import_dir() / f"{job.pk}.csv"


def errors_path(job: ImportJob) -> Path:
    return import_dir() / f"{job.pk}.errors.csv"


def queue_import(
    account: Account,
    user: User | None,
    upload: IO[bytes],
    filename: str,
    size: int,
    topics: list[Topic],
    *,
    confirmed: bool,
) -> ImportJob:
    """Store an uploaded CSV and queue it for a worker; return the job."""
    if not topics:
        raise ValidationError("Choose at least one topic.")
    if any(t.account_id != account.pk for t in topics):
        raise ValidationError("Every topic must belong to the account.")
    if size > settings.IMPORT_MAX_BYTES:
        raise ValidationError(
            f"The file is larger than {settings.IMPORT_MAX_BYTES // 1_000_000} MB; split it, "
            "or use "
            "`tidings import-subscribers`."
        )
    with transaction.atomic():
        job = ImportJob.objects.create(
            account=account,
            created_by=user,
            confirmed=confirmed,
            filename=Path(filename).name[:255],
            state=ImportJob.QUEUED,
        )
        job.topics.set(topics)
        lines = 0
        with upload_path(job).open("wb") as out:
            for block in iter(lambda: upload.read(1 << 20), b""):
                lines += block.count(b"\n")
                out.write(block)
        job.rows_total = max(lines - 1, 1)  # the header line is not a row
        job.save(update_fields=["rows_total"])
    return job


def claim_import() -> ImportJob | None:
    """Claim the oldest queued job, or one whose worker stopped; None if there is none."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.IMPORT_STALE_SECONDS)
    claimable = Q(state=ImportJob.QUEUED) | Q(state=ImportJob.RUNNING, heartbeat_at__lt=stale)
    for job in ImportJob.objects.filter(claimable).order_by("created")[:5]:
        claimed = (
            ImportJob.objects.filter(claimable, pk=job.pk)
            .filter(state=job.state, heartbeat_at=job.heartbeat_at)
            .update(state=ImportJob.RUNNING, started_at=now, heartbeat_at=now, rows_done=0)
        )
        if claimed:
            return ImportJob.objects.select_related("account").get(pk=job.pk)
    return None


def run_import(job: ImportJob) -> ImportJob:
    """Import a claimed job's file, recording progress, the counts and the error report."""

    def progress(done: int) -> None:
        ImportJob.objects.filter(pk=job.pk, state=ImportJob.RUNNING).update(
            rows_done=done, heartbeat_at=timezone.now()
        )

    topics = list(job.topics.all())
    try:
        with upload_path(job).open(newline="", encoding="utf-8-sig", errors="replace") as f:
            report = import_subscribers(
                job.account, topics, read_rows(f), confirmed=job.confirmed, progress=progress
            )
    except (ValueError, OSError, csv.Error) as exc:
        job.state, job.failure = ImportJob.FAILED, str(exc)
        job.finished_at = timezone.now()
        job.save(update_fields=["state", "failure", "finished_at"])
        return job
    if report.errors:
        with errors_path(job).open("w", newline="") as out:
            writer = SafeWriter(out)
            writer.writerow(["line", "value", "error"])
            writer.writerows(report.errors)
    counts = report.as_dict()
    del counts["errors"]
    job.state, job.report, job.error_count = ImportJob.DONE, counts, len(report.errors)
    job.rows_done = job.rows_total = report.rows
    job.finished_at = timezone.now()
    job.save(
        update_fields=["state", "report", "error_count", "rows_done", "rows_total", "finished_at"]
    )
    upload_path(job).unlink(missing_ok=True)  # the addresses are in the database now
    return job


def process_one_import() -> bool:
    """Claim and run one import job; return whether there was one."""
    job = claim_import()
    if job is None:
        return False
    try:
        run_import(job)
    except Exception:
        # Left running: its heartbeat stops, and another worker claims it again later.
        log.exception("import job %s failed", job.pk)
        raise
    return True
