from django.apps import AppConfig


class Config(AppConfig):
    """The REST API (django-ninja), with tokens scoped to an account and a role."""

    name = "tidings.api"
    label = "api"
