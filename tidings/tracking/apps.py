from django.apps import AppConfig


class Config(AppConfig):
    """Analytics: opens, clicks through signed redirects, and the bulletin reports."""

    name = "tidings.tracking"
    label = "tracking"
    # (label, URL name, least role, order) of its console pages: see console.nav.
    console_pages = [
        ("Analytics", "tracking_console:index", "viewer", 60),
    ]

    def ready(self) -> None:
        from tidings.tracking import jobs, signals  # noqa: F401 - register the job and receivers
