from __future__ import annotations

from django.db import models

from tidings.accounts.models import Account
from tidings.lib.headers import validate_line


class Category(models.Model):
    account = models.ForeignKey(Account, models.CASCADE, related_name="categories")
    name = models.CharField(max_length=200, validators=[validate_line])
    parent = models.ForeignKey(
        "self", models.CASCADE, null=True, blank=True, related_name="children"
    )

    class Meta:
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="category_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Topic(models.Model):
    account = models.ForeignKey(Account, models.CASCADE, related_name="topics")
    name = models.CharField(max_length=200, validators=[validate_line])
    short_name = models.CharField(max_length=100, blank=True, validators=[validate_line])
    code = models.CharField(
        max_length=64, help_text="Unique within the account, e.g. USSTATEBPA_12"
    )
    description = models.TextField(blank=True)
    listed = models.BooleanField(default=True, help_text="Shown on the public subscribe page.")
    archive_public = models.BooleanField(
        default=True, help_text="Its bulletins' web copies are public (else account members only)."
    )
    categories = models.ManyToManyField(Category, blank=True, related_name="topics")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "code"], name="topic_unique_code"),
        ]

    def __str__(self) -> str:
        return self.name
