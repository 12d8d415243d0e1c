from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from tidings.accounts.models import Account, Membership, SenderIdentity

if TYPE_CHECKING:
    from tidings.topics.models import Topic


def create_account(
    *,
    code: str,
    name: str,
    sender_address: str,
    sender_name: str = "",
    postal_address: str = "",
    time_zone: str = "UTC",
    language: str = "en",
) -> Account:
    """Create an account after validating every field."""
    account = Account(
        code=code,
        name=name,
        sender_address=sender_address,
        sender_name=sender_name or name,
        postal_address=postal_address,
        time_zone=time_zone,
        language=language,
    )
    account.full_clean()
    account.save()
    return account


SETTINGS_FIELDS = (
    "name",
    "postal_address",
    "time_zone",
    "language",
    "sender_name",
    "sender_address",
    "header_template",
    "footer_template",
    "courtesy_copy",
    "shared_copies_for_distribution_lists",
    "brand_color",
    "logo",
)


def update_account(account: Account, **fields: object) -> Account:
    """Change the account's settings after validating every field."""
    unknown = set(fields) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown account settings: {', '.join(sorted(unknown))}.")
    for name, value in fields.items():
        setattr(account, name, value)
    account.full_clean()
    account.save(update_fields=list(fields))
    return account


def find_user(who: str) -> User:
    """Return the user with this username or email; raise ValidationError if none or several."""
    who = who.strip()
    users = list(User.objects.filter(Q(username=who) | Q(email__iexact=who))[:2])
    if not users:
        raise ValidationError(
            f"No user {who!r}. Create one first: tidings create-user NAME --account CODE."
        )
    if len(users) > 1:
        raise ValidationError(f"Several users match {who!r}; give the username.")
    return users[0]


def add_member(account: Account, who: str, role: str, topics: Iterable[Topic] = ()) -> Membership:
    """Give an existing user a role in the account (and, for authors, their topics)."""
    user = find_user(who)
    topics = _own_topics(account, topics)
    if role not in Membership.RANK:
        raise ValidationError(f"Unknown role {role!r}.")
    with transaction.atomic():
        if Membership.objects.filter(account=account, user=user).exists():
            raise ValidationError(f"{user.username} is already a member of {account.code}.")
        membership = Membership.objects.create(account=account, user=user, role=role)
        membership.topics.set(topics)
    return membership


def _own_topics(account: Account, topics: Iterable[Topic]) -> list[Topic]:
    topics = list(topics)
    if any(t.account_id != account.pk for t in topics):
        raise ValidationError("Every topic must belong to the account.")
    return topics


def _keep_an_admin(membership: Membership) -> None:
    """Refuse to leave the account without an admin (called inside a transaction)."""
    admins = list(
        Membership.objects.select_for_update()
        .filter(account_id=membership.account_id, role=Membership.ADMIN)
        .values_list("pk", flat=True)
    )
    if admins == [membership.pk]:
        raise ValidationError(
            "The account needs at least one admin; make someone else admin first."
        )


def change_role(membership: Membership, role: str, topics: Iterable[Topic] = ()) -> Membership:
    """Change a member's role and assigned topics; the last admin stays admin."""
    if role not in Membership.RANK:
        raise ValidationError(f"Unknown role {role!r}.")
    topics = _own_topics(membership.account, topics)
    with transaction.atomic():
        if membership.role == Membership.ADMIN and role != Membership.ADMIN:
            _keep_an_admin(membership)
        Membership.objects.filter(pk=membership.pk).update(role=role)
        membership.role = role
        membership.topics.set(topics)
    return membership


def remove_member(membership: Membership) -> None:
    """Take a user out of the account; the last admin cannot be removed."""
    with transaction.atomic():
        if membership.role == Membership.ADMIN:
            _keep_an_admin(membership)
        membership.delete()


def add_sender_identity(account: Account, *, name: str, address: str) -> SenderIdentity:
    identity = SenderIdentity(account=account, name=name.strip(), address=address.strip())
    identity.full_clean()
    identity.save()
    return identity


def remove_sender_identity(identity: SenderIdentity) -> None:
    """Delete an identity; bulletins that used it keep going out from the account's sender."""
    identity.delete()
