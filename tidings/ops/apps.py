from django.apps import AppConfig


class Config(AppConfig):
    """Running Tidings: serve, web, demo."""

    name = "tidings.ops"
    label = "ops"
