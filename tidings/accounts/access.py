"""Who may see what in the console: one account per request, resolved from the URL.

Views take the account code from the URL and call `account_for()` (or use `@account_view`),
which answers 404, never 403, to a user who is not a member: another tenant's accounts are not
even confirmed to exist. Superusers act as account admins everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404, HttpRequest, HttpResponse

from tidings.accounts.models import Account, Membership


def membership_for(user: AbstractBaseUser | AnonymousUser, code: str) -> Membership:
    """Return the user's membership of the account `code`, or raise Http404."""
    if not user.is_authenticated:
        raise Http404("No such account.")
    account = Account.objects.filter(code=code).first()
    if account is None:
        raise Http404("No such account.")
    if getattr(user, "is_superuser", False):
        return Membership(user=user, account=account, role=Membership.ADMIN)  # type: ignore[misc]
    membership = Membership.objects.filter(user=user, account=account).first()  # type: ignore[misc]
    if membership is None:
        raise Http404("No such account.")
    return membership


def account_for(request: HttpRequest, code: str, role: str = Membership.VIEWER) -> Account:
    """Return the account if the request's user holds at least `role` in it, else raise 404."""
    membership = membership_for(request.user, code)
    if not membership.has_role(role):
        raise Http404("No such page.")
    request.membership = membership  # type: ignore[attr-defined]
    return membership.account


def accounts_of(user: AbstractBaseUser | AnonymousUser) -> list[Account]:
    if not user.is_authenticated:
        return []
    if getattr(user, "is_superuser", False):
        return list(Account.objects.order_by("name"))
    return list(Account.objects.filter(memberships__user=user).order_by("name"))  # type: ignore[misc]


def account_view(role: str = Membership.VIEWER) -> Callable[..., Any]:
    """Decorate a view taking `account` (a code) as its first URL argument.

    The view receives the Account instead of the code; `request.membership` holds the role.
    """

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, account: str, *args: Any, **kwargs: Any) -> HttpResponse:
            return view(request, account_for(request, account, role), *args, **kwargs)

        return wrapper

    return decorate


# --- topic limits --------------------------------------------------------------------------------
# An author may be limited to some topics. Such an author writes, sees and reports on only the
# bulletins whose every topic is theirs, and only their topics' figures.


def topic_limit(membership: Membership) -> QuerySet[Any] | None:
    """Return the topics a limited author is kept to, or None when the member sees every topic."""
    if membership.role != Membership.AUTHOR or not membership.pk:
        return None
    assigned = membership.topics.all()
    return assigned if assigned.exists() else None


def allowed_topics(membership: Membership) -> QuerySet[Any]:
    """Return the topics the member may write to and see: an author's assigned ones, else all."""
    # The Topic model through the membership's relation: accounts sit below the topics app.
    topics = membership.topics.model.objects.filter(account=membership.account).order_by("name")
    limit = topic_limit(membership)
    if limit is not None:
        topics = topics.filter(pk__in=limit.values("pk"))
    return topics


def visible_bulletins(membership: Membership, bulletins: QuerySet[Any]) -> QuerySet[Any]:
    """Keep only the bulletins the member may see: for a limited author, those with no topic
    outside their own."""
    limit = topic_limit(membership)
    if limit is None:
        return bulletins
    # The bulletins' topic table, from the queryset: accounts sit below the bulletins app.
    foreign = bulletins.model.topics.through.objects.filter(bulletin=OuterRef("pk")).exclude(
        topic__in=limit.values("pk")
    )
    return bulletins.exclude(Exists(foreign))
