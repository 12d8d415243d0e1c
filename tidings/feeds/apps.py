from django.apps import AppConfig


class Config(AppConfig):
    """Watched RSS/Atom feeds and web pages that publish bulletins when they change."""

    name = "tidings.feeds"
    label = "feeds"

    def ready(self) -> None:
        from tidings.accounts.models import Membership
        from tidings.console.nav import register
        from tidings.feeds import jobs  # noqa: F401 - registers the periodic poll

        register("Feeds & pages", "feeds:index", role=Membership.VIEWER, order=40)
