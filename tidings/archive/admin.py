from django.contrib import admin

from tidings.archive.models import Comment, Post
from tidings.lib.pagecache import bump


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ("subject", "mailing_list", "author_name", "date")
    list_filter = ("mailing_list",)
    search_fields = ("subject", "body_text")
    raw_id_fields = ("inbound",)


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ("name", "post", "status", "created")
    list_filter = ("status",)
    actions = ["publish"]

    @admin.action(description="Publish the selected comments")
    def publish(self, request, queryset):  # type: ignore[no-untyped-def]
        queryset.update(status=Comment.PUBLISHED)
        bump()
