from django.contrib import admin

from tidings.accounts.models import Account, SenderIdentity


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "time_zone", "sender_address")
    search_fields = ("code", "name")


@admin.register(SenderIdentity)
class SenderIdentityAdmin(admin.ModelAdmin):
    list_display = ("name", "address", "account")
    list_filter = ("account",)
