from django.contrib import admin

from tidings.bulletins.models import Bulletin


@admin.register(Bulletin)
class BulletinAdmin(admin.ModelAdmin):
    list_display = ("subject", "account", "status", "published_at", "sent_at")
    list_filter = ("account", "status")
    search_fields = ("subject",)
    filter_horizontal = ("topics",)
