from django.db import models


class JobRun(models.Model):
    """When a periodic job last started; workers claim a due job by updating its row."""

    name = models.CharField(max_length=100, unique=True)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.name


class Heartbeat(models.Model):
    """A worker process's sign of life, written every few seconds; /healthz reads them."""

    worker = models.CharField(max_length=200, unique=True, help_text="host:pid")
    roles = models.CharField(max_length=100)
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.worker
