from django.apps import AppConfig


class Config(AppConfig):
    name = "tidings.accounts"
    label = "accounts"

    def ready(self) -> None:
        from tidings.accounts.models import Account
        from tidings.lib import lookups
        from tidings.lib.languages import compile_catalogs
        from tidings.lib.pagecache import shown_publicly

        # The lowest app with a ready(): every query after start-up has the lookup.
        lookups.register()

        shown_publicly(Account)
        # Before any page or mail is translated: the catalogs as this release ships them.
        compile_catalogs()
