from django.apps import AppConfig


class Config(AppConfig):
    name = "tidings.topics"
    label = "topics"

    def ready(self) -> None:
        from tidings.lib.pagecache import account, shown_publicly
        from tidings.topics.models import Category, Topic

        shown_publicly(Topic, Category, scopes=lambda row: [account(row.account_id)])
