from django.contrib import admin

from tidings.topics.models import Category, Topic


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "account", "parent")
    list_filter = ("account",)


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "account", "listed")
    list_filter = ("account", "listed")
    search_fields = ("code", "name")
