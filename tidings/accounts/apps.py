from django.apps import AppConfig


class Config(AppConfig):
    name = "tidings.accounts"
    label = "accounts"

    def ready(self) -> None:
        from tidings.accounts.models import Account
        from tidings.lib.pagecache import shown_publicly

        shown_publicly(Account)
