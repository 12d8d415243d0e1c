from django.apps import AppConfig


class Config(AppConfig):
    """Tracking: opens and clicks through signed redirects, counted per bulletin and topic."""

    name = "tidings.tracking"
    label = "tracking"

    def ready(self) -> None:
        from tidings.tracking import jobs, signals  # noqa: F401 - register the job and receivers
