from django.contrib import admin

from tidings.delivery.models import Delivery, Send


@admin.register(Send)
class SendAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "state", "bulletin", "mailing_list", "created", "finished_at")
    list_filter = ("kind", "state")
    exclude = ("message",)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("address", "send", "state", "attempts", "sent_at", "last_reply")
    list_filter = ("state",)
    search_fields = ("address",)
    raw_id_fields = ("send", "subscriber", "topic")
