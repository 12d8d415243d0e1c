from django.apps import AppConfig


class Config(AppConfig):
    name = "tidings.lists"
    label = "lists"

    def ready(self) -> None:
        from tidings.accounts.models import Membership
        from tidings.console.nav import register
        from tidings.lists import jobs  # noqa: F401 - registers the periodic jobs

        register("Mailing lists", "lists_console:index", role=Membership.VIEWER, order=40)
