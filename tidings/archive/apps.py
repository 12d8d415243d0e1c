from django.apps import AppConfig


class Config(AppConfig):
    name = "tidings.archive"
    label = "archive"

    def ready(self) -> None:
        from tidings.archive.models import Attachment, BulletinText, Comment, Month, Post
        from tidings.lib.pagecache import shown_publicly

        shown_publicly(Post, Comment, BulletinText, Attachment, Month)
        from tidings.archive import receivers  # noqa: F401 - keeps posts, indexes bulletins
