from django.apps import AppConfig


class Config(AppConfig):
    name = "tidings.bulletins"
    label = "bulletins"

    def ready(self) -> None:
        from tidings.bulletins.models import Bulletin
        from tidings.lib.pagecache import account, shown_publicly

        shown_publicly(Bulletin, scopes=lambda row: [account(row.account_id)])
        # How the worker writes bulletins, the periodic jobs.
        from tidings.bulletins import compose, jobs  # noqa: F401
