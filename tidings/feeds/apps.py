from django.apps import AppConfig


class Config(AppConfig):
    """Watched RSS/Atom feeds and web pages that publish bulletins when they change."""

    name = "tidings.feeds"
    label = "feeds"
