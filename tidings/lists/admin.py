from django.contrib import admin

from tidings.lists.models import ListMessage, ListSender, MailingList, Member


class MemberInline(admin.TabularInline):
    model = Member
    extra = 0


class ListSenderInline(admin.TabularInline):
    model = ListSender
    extra = 0


@admin.register(MailingList)
class MailingListAdmin(admin.ModelAdmin):
    list_display = ("address", "display_name", "archive_public", "comment_moderation")
    inlines = [ListSenderInline, MemberInline]


@admin.register(ListMessage)
class ListMessageAdmin(admin.ModelAdmin):
    list_display = ("created", "mailing_list", "status", "rule", "sender", "subject")
    list_filter = ("mailing_list", "status", "rule")
    raw_id_fields = ("inbound",)
