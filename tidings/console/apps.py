from django.apps import AppConfig


class Config(AppConfig):
    """The publisher console: login, the accounts a user belongs to, and their pages."""

    name = "tidings.console"
    label = "console"
    # (label, URL name, least role, order) of its console pages: see console.nav.
    console_pages = [
        ("Bulletins", "console:bulletins", "viewer", 10),
        ("New bulletin", "console:compose", "author", 11),
        ("Media library", "console:media", "viewer", 13),
        ("Topics", "console:topics", "topic_admin", 20),
        ("Categories", "console:categories", "topic_admin", 21),
        ("Users", "console:users", "admin", 80),
        ("Sender identities", "console:senders", "admin", 81),
        ("Settings", "console:settings", "admin", 82),
        ("Message templates", "console:templates", "admin", 83),
    ]
