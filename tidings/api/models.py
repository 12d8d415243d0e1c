from __future__ import annotations

from django.db import models

from tidings.accounts.models import Account, Membership


class ApiToken(models.Model):
    """A secret that lets a program act in one account with one role, until it is revoked.

    Only a SHA-256 hash of the secret is stored; the secret is shown once, when it is made.
    The secrets are 256 random bits, so a fast hash is enough: there is nothing to brute-force.
    """

    account = models.ForeignKey(Account, models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What uses it, e.g. 'website CMS'.")
    role = models.CharField(max_length=16, choices=Membership.ROLES, default=Membership.VIEWER)
    # Serves authentication: one lookup by the hash of the presented secret.
    secret_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=16, help_text="The start of the secret, for display.")
    created = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        "auth.User", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_used = models.DateTimeField(null=True, blank=True)
    revoked = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…, {self.role})"

    @property
    def active(self) -> bool:
        return self.revoked is None

    def has_role(self, role: str) -> bool:
        return Membership.RANK[self.role] >= Membership.RANK[role]
