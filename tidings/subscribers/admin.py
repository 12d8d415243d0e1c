from django.contrib import admin

from tidings.subscribers.models import Subscriber, Subscription


class SubscriptionInline(admin.TabularInline):
    model = Subscription
    extra = 0
    raw_id_fields = ("topic",)


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ("email", "account", "status", "created")
    list_filter = ("account", "status")
    search_fields = ("email",)
    inlines = [SubscriptionInline]
