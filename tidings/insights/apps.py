from django.apps import AppConfig


class Config(AppConfig):
    """Insights: a bulletin's report, its recipients, a topic's growth, tracking settings."""

    name = "tidings.insights"
    label = "insights"
    # (label, URL name, least role, order) of its console pages: see console.nav.
    console_pages = [
        ("Analytics", "insights:index", "viewer", 60),
    ]
