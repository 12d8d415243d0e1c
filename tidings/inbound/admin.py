from django.contrib import admin

from tidings.inbound.models import InboundMessage


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    list_display = ("id", "received_at", "mail_from", "subject", "state", "captured")
    list_filter = ("state", "captured")
    search_fields = ("mail_from", "subject")
    exclude = ("raw",)
    readonly_fields = ("notes",)
