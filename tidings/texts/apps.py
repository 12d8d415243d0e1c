from django.apps import AppConfig


class Config(AppConfig):
    """Text messages: mobile numbers, text subscriptions, keywords, SMS gateways, the SMSC."""

    name = "tidings.texts"
    label = "texts"
    # (label, URL name, least role, order) of its console pages: see console.nav.
    console_pages = [
        ("Text messages", "texts:index", "viewer", 25),
    ]

    def ready(self) -> None:
        from tidings.texts import compose, receivers  # noqa: F401 - the composer, the signals
