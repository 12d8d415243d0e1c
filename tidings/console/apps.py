from django.apps import AppConfig


class Config(AppConfig):
    """The publisher console: login, the accounts a user belongs to, and their pages."""

    name = "tidings.console"
    label = "console"
