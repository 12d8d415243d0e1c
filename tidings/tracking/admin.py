from django.contrib import admin

from tidings.tracking.models import Link, TrackingSettings


@admin.register(TrackingSettings)
class TrackingSettingsAdmin(admin.ModelAdmin):
    list_display = ["account", "opens", "clicks"]


@admin.register(Link)
class LinkAdmin(admin.ModelAdmin):
    list_display = ["bulletin", "position", "url"]
    raw_id_fields = ["bulletin"]
