"""Writes of the API app: tokens, and the few writes the other apps' actions lack yet."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils import timezone

from tidings.accounts.models import Account, Membership
from tidings.api.models import ApiToken

SECRET_PREFIX = "tid_"  # noqa: S105 - the marker of our secrets, not a secret
# last_used is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    account: Account,
    *,
    name: str,
    role: str = Membership.VIEWER,
    created_by: User | None = None,
) -> tuple[ApiToken, str]:
    """Create a token; return it and its secret, which is never stored and can't be shown again."""
    if role not in Membership.RANK:
        raise ValidationError(f"Unknown role {role!r}; use one of {', '.join(Membership.RANK)}.")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        account=account,
        name=name.strip(),
        role=role,
        secret_hash=hash_secret(secret),
        prefix=secret[:12],
        created_by=created_by,
    )
    token.full_clean()
    token.save()
    return token, secret


def revoke_token(token: ApiToken) -> None:
    """Refuse the token from now on; idempotent."""
    if token.revoked is None:
        token.revoked = timezone.now()
        ApiToken.objects.filter(pk=token.pk, revoked__isnull=True).update(revoked=token.revoked)


def authenticate(secret: str) -> ApiToken | None:
    """Return the active token with this secret, or None; note when it was used."""
    if not secret.startswith(SECRET_PREFIX) or len(secret) > 100:
        return None
    token = (
        ApiToken.objects.select_related("account")
        .filter(secret_hash=hash_secret(secret), revoked__isnull=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used is None or token.last_used < now - LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)
        token.last_used = now
    return token
