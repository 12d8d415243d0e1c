from django.apps import AppConfig


class Config(AppConfig):
    """The publisher console: login, the accounts a user belongs to, and their pages."""

    name = "tidings.console"
    label = "console"

    def ready(self) -> None:
        from tidings.accounts.models import Membership
        from tidings.console.nav import register

        register("Bulletins", "console:bulletins", order=10)
        register("New bulletin", "console:compose", role=Membership.AUTHOR, order=11)
        register("Topics", "console:topics", role=Membership.TOPIC_ADMIN, order=20)
        register("Categories", "console:categories", role=Membership.TOPIC_ADMIN, order=21)
        register("Users", "console:users", role=Membership.ADMIN, order=80)
        register("Sender identities", "console:senders", role=Membership.ADMIN, order=81)
        register("Settings", "console:settings", role=Membership.ADMIN, order=82)
