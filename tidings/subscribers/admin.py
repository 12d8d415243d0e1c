from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tidings.subscribers import actions
from tidings.subscribers.models import (
    BounceEvent,
    ImportJob,
    Subscriber,
    SubscribeSettings,
    Subscription,
    Suppression,
)


class SubscriptionInline(admin.TabularInline):
    model = Subscription
    extra = 0
    raw_id_fields = ("topic",)


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ("email", "account", "status", "delivery_mode", "created")
    list_filter = ("account", "status", "delivery_mode")
    search_fields = ("email",)
    exclude = ("confirm_nonce",)
    inlines = [SubscriptionInline]


@admin.register(SubscribeSettings)
class SubscribeSettingsAdmin(admin.ModelAdmin):
    list_display = ("account", "double_opt_in", "confirm_link_days", "digest_hour")


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    """Staff add and remove suppressed addresses here; empty account means every account."""

    list_display = ("email", "account", "reason", "created")
    list_filter = ("reason", "account")
    search_fields = ("email",)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        saved = actions.suppress(obj.account, obj.email, obj.reason, obj.note)
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        actions.unsuppress(obj)


@admin.register(BounceEvent)
class BounceEventAdmin(admin.ModelAdmin):
    """Every bounce, complaint and ignored report, with the decision and its reason."""

    list_display = ("created", "email", "kind", "status", "decision", "reason")
    list_filter = ("kind", "decision")
    search_fields = ("email",)
    raw_id_fields = ("subscriber", "delivery", "inbound")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Imports queued from the console; a failed or stuck one can be set back to queued."""

    list_display = ("created", "account", "filename", "state", "rows_done", "error_count")
    list_filter = ("state",)
    raw_id_fields = ("created_by",)
    readonly_fields = ("report", "failure", "started_at", "heartbeat_at", "finished_at")
