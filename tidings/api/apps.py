from django.apps import AppConfig


class Config(AppConfig):
    """The REST API (django-ninja), with tokens scoped to an account and a role."""

    name = "tidings.api"
    label = "api"

    def ready(self) -> None:
        from tidings.accounts.models import Membership
        from tidings.console.nav import register

        register("API tokens", "api:tokens", role=Membership.ADMIN, order=90)
