from django.apps import AppConfig


class Config(AppConfig):
    name = "tidings.subscribers"
    label = "subscribers"
    # (label, URL name, least role, order) of its console pages: see console.nav.
    console_pages = [
        ("Subscribers", "subscribers_console:list", "viewer", 20),
        ("Suppressions", "subscribers_console:suppressions", "viewer", 21),
        ("Import subscribers", "subscribers_console:imports", "topic_admin", 22),
        ("Signup form", "subscribers_console:embed", "viewer", 23),
        ("Network", "subscribers_console:network", "viewer", 24),
        ("Questions & segments", "subscribers_console:audiences", "viewer", 26),
    ]

    def ready(self) -> None:
        from tidings.lib.pagecache import account, shown_publicly
        from tidings.subscribers.models import Question, SubscribeSettings

        shown_publicly(SubscribeSettings, Question, scopes=lambda row: [account(row.account_id)])
        # The address reader, the inbound handlers, the periodic jobs.
        from tidings.subscribers import addresses, inbound, jobs  # noqa: F401
