from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tidings.ops.models import JobRun
from tidings.ops.periodic import JOBS, run_due

pytestmark = pytest.mark.django_db


@pytest.fixture
def counter(monkeypatch):  # type: ignore[no-untyped-def]
    calls: list[int] = []
    monkeypatch.setitem(JOBS, "count", (3600, lambda: calls.append(1)))
    return calls


def test_it_runs_a_due_job_once_per_period(counter):  # type: ignore[no-untyped-def]
    assert run_due()
    assert not run_due()
    assert counter == [1]


def test_it_runs_it_again_when_the_period_has_passed(counter):  # type: ignore[no-untyped-def]
    run_due()
    JobRun.objects.filter(name="count").update(last_started_at=timezone.now() - timedelta(hours=2))
    run_due()
    assert counter == [1, 1]


def test_it_records_a_failing_job_and_goes_on(monkeypatch):  # type: ignore[no-untyped-def]
    def broken() -> None:
        raise RuntimeError("feed server down")

    monkeypatch.setitem(JOBS, "broken", (60, broken))
    assert run_due()
    assert "feed server down" in JobRun.objects.get(name="broken").last_error
