from django.apps import AppConfig


class Config(AppConfig):
    name = "tidings.subscribers"
    label = "subscribers"

    def ready(self) -> None:
        from tidings.accounts.models import Membership
        from tidings.console.nav import register
        from tidings.subscribers import jobs  # noqa: F401 - registers the periodic jobs

        register("Subscribers", "subscribers_console:list", order=20)
        register("Suppressions", "subscribers_console:suppressions", order=21)
        register(
            "Import subscribers",
            "subscribers_console:imports",
            role=Membership.TOPIC_ADMIN,
            order=22,
        )
        register("Signup form", "subscribers_console:embed", order=23)
