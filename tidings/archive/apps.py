from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_save


def _index_bulletin(sender: type, instance: Any, **kwargs: Any) -> None:
    from tidings.archive.actions import index_bulletin

    index_bulletin(instance)


class Config(AppConfig):
    name = "tidings.archive"
    label = "archive"

    def ready(self) -> None:
        # Bulletins are written by tidings.bulletins.actions; every save (publishing, an edit)
        # refreshes their searchable text here, so search never needs the bulletins app's help.
        post_save.connect(
            _index_bulletin, sender="bulletins.Bulletin", dispatch_uid="archive.index_bulletin"
        )
