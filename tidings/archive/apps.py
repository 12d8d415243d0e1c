from django.apps import AppConfig


class Config(AppConfig):
    name = "tidings.archive"
    label = "archive"

    def ready(self) -> None:
        from tidings.archive.models import Attachment, BulletinText, Comment, Month, Post
        from tidings.bulletins.models import Bulletin
        from tidings.lib.pagecache import account, mailing_list, shown_publicly

        def post_list(pk: int) -> list[str]:  # none when the post is gone: every page stale
            found = Post.objects.filter(pk=pk).values_list("mailing_list_id", flat=True)
            return [mailing_list(found[0])] if found else []

        shown_publicly(Post, Month, scopes=lambda row: [mailing_list(row.mailing_list_id)])
        shown_publicly(Comment, Attachment, scopes=lambda row: post_list(row.post_id))
        shown_publicly(
            BulletinText,
            scopes=lambda row: [
                account(pk)
                for pk in Bulletin.objects.filter(pk=row.bulletin_id).values_list(
                    "account_id", flat=True
                )
            ],
        )
        from tidings.archive import receivers  # noqa: F401 - keeps posts, indexes bulletins
