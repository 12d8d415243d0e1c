from django.apps import AppConfig


class Config(AppConfig):
    """Watched RSS/Atom feeds and web pages that publish bulletins when they change."""

    name = "tidings.feeds"
    label = "feeds"
    # (label, URL name, least role, order) of its console pages: see console.nav.
    console_pages = [
        ("Feeds & pages", "feeds:index", "viewer", 40),
    ]

    def ready(self) -> None:
        from tidings.feeds import jobs  # noqa: F401 - registers the periodic poll
