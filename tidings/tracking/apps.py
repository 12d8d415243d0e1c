from django.apps import AppConfig


class Config(AppConfig):
    """Analytics: opens, clicks through signed redirects, and the bulletin reports."""

    name = "tidings.tracking"
    label = "tracking"

    def ready(self) -> None:
        from tidings.accounts.models import Membership
        from tidings.console.nav import register
        from tidings.tracking import jobs, signals  # noqa: F401 - register the job and receivers

        register("Analytics", "tracking_console:index", role=Membership.VIEWER, order=60)
