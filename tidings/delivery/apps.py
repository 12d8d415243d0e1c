from django.apps import AppConfig


class Config(AppConfig):
    name = "tidings.delivery"
    label = "delivery"
    # (label, URL name, least role, order) of its console pages: see console.nav.
    console_pages = [
        ("Sends", "delivery:sends", "viewer", 12),
    ]
