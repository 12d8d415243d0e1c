from django.contrib import admin

from tidings.accounts.models import Account


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "time_zone", "sender_address")
    search_fields = ("code", "name")
