from django.apps import AppConfig


class Config(AppConfig):
    """The REST API (django-ninja), with tokens scoped to an account and a role."""

    name = "tidings.api"
    label = "api"
    # (label, URL name, least role, order) of its console pages: see console.nav.
    console_pages = [
        ("API tokens", "api_console:tokens", "admin", 90),
    ]
