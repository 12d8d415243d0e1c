from django.apps import AppConfig


class Config(AppConfig):
    """Analytics: opens, clicks through signed redirects, and the bulletin reports."""

    name = "tidings.tracking"
    label = "tracking"
