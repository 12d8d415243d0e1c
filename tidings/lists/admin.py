from collections.abc import Callable

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from tidings.lists.actions import ModerationError, approve_post, discard_post
from tidings.lists.models import ListMessage, ListSender, MailingList, Member


class MemberInline(admin.TabularInline):
    model = Member
    extra = 0


class ListSenderInline(admin.TabularInline):
    model = ListSender
    extra = 0


@admin.register(MailingList)
class MailingListAdmin(admin.ModelAdmin):
    list_display = ("address", "display_name", "posting_policy", "archive_public")
    inlines = [ListSenderInline, MemberInline]


@admin.register(ListMessage)
class ListMessageAdmin(admin.ModelAdmin):
    list_display = ("created", "mailing_list", "status", "rule", "sender", "subject")
    list_filter = ("mailing_list", "status", "rule")
    raw_id_fields = ("inbound",)
    actions = ["approve", "approve_and_accept_sender", "discard"]

    def _moderate(
        self, request: HttpRequest, queryset: QuerySet[ListMessage], act: Callable[..., object]
    ) -> None:
        done = 0
        for record in queryset.filter(status=ListMessage.HELD).select_related("inbound"):
            try:
                act(record, moderator=request.user.get_username())
                done += 1
            except ModerationError as exc:
                self.message_user(request, str(exc), messages.WARNING)
        self.message_user(request, f"{done} held post(s) done.")

    @admin.action(description="Approve the selected held posts")
    def approve(self, request: HttpRequest, queryset: QuerySet[ListMessage]) -> None:
        self._moderate(request, queryset, approve_post)

    @admin.action(description="Approve, and always accept their senders")
    def approve_and_accept_sender(
        self, request: HttpRequest, queryset: QuerySet[ListMessage]
    ) -> None:
        def act(record: ListMessage, moderator: str) -> None:
            approve_post(record, moderator=moderator, accept_sender=True)

        self._moderate(request, queryset, act)

    @admin.action(description="Discard the selected held posts")
    def discard(self, request: HttpRequest, queryset: QuerySet[ListMessage]) -> None:
        self._moderate(request, queryset, discard_post)
