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
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone

from tidings.accounts.models import Account, Membership


def membership_for(user: AbstractBaseUser | AnonymousUser, code: str) -> Membership:
    """Return the user's membership of the account `code`, or raise Http404."""
    if not user.is_authenticated:
        raise Http404("No such account.")
    account = Account.objects.filter(code=code).first()
    if account is None:
        raise Http404("No such account.")
    membership = Membership.objects.filter(user=user, account=account).first()  # type: ignore[misc]
    if getattr(user, "is_superuser", False):
        # An admin of every account, member or not (the role is never saved). Without a row the
        # membership is unsaved: every helper below takes one (an admin has no topic limit).
        membership = membership or Membership(user=user, account=account)  # type: ignore[misc]
        membership.role = Membership.ADMIN
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
            found = account_for(request, account, role)
            # Times on its pages are the account's (the `when` filter names the zone).
            with timezone.override(found.tz):
                return view(request, found, *args, **kwargs)

        return wrapper

    return decorate


def is_operator(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether the user runs the installation (Django staff): the captured outbox, for one."""
    return bool(user.is_authenticated and getattr(user, "is_staff", False))


def staff_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Decorate a page for operators only: the console's login first, then 404 to others."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_operator(request.user):
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return wrapper


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
    # The Topic model through the membership's field (accounts sit below the topics app); not
    # through `membership.topics`, which a superuser's unsaved membership cannot use.
    topic_model: Any = Membership._meta.get_field("topics").related_model
    topics = topic_model._default_manager.filter(account=membership.account).order_by("name")
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


def visible_sends(membership: Membership, sends: QuerySet[Any]) -> QuerySet[Any]:
    """Keep only the sends the member may see and act on: for a limited author, the sends of
    bulletins they may see (not list relays, notices or other topics' bulletins)."""
    if topic_limit(membership) is None:
        return sends
    # The bulletins through the sends' field: accounts sit below the delivery and bulletins apps.
    bulletins = sends.model._meta.get_field("bulletin").related_model._default_manager.all()
    return sends.filter(bulletin__in=visible_bulletins(membership, bulletins).values("pk"))


# --- readers of the public side ------------------------------------------------------------------
# Who may read what an account keeps members-only: its topics' archives, its lists' archives and
# rosters. Lists and topics reach these rules as instances and querysets (their relations are
# followed, never imported: accounts sit below every app that has such pages).


def is_member(user: AbstractBaseUser | AnonymousUser, account: Account) -> bool:
    """Whether the user may read the account's members-only archives: one of its staff."""
    if not user.is_authenticated:
        return False
    if getattr(user, "is_superuser", False):
        return True
    return Membership.objects.filter(user=user, account=account).exists()  # type: ignore[misc]


def _list_member(user: AbstractBaseUser | AnonymousUser) -> str:
    """The address a logged-in reader is a list member by ("" for none)."""
    return str(getattr(user, "email", "") or "") if user.is_authenticated else ""


def can_read_list_archive(user: AbstractBaseUser | AnonymousUser, mailing_list: Any) -> bool:
    """Whether the reader may see a list's archive: public, an operator, or a member's login."""
    if mailing_list.archive_public:
        return True
    if is_operator(user):
        return True
    email = _list_member(user)
    return bool(email) and mailing_list.members.filter(address__iexact=email).exists()


def readable_lists(user: AbstractBaseUser | AnonymousUser, lists: QuerySet[Any]) -> QuerySet[Any]:
    """Keep the lists whose archives the reader may read (one query when evaluated)."""
    if is_operator(user):
        return lists
    email = _list_member(user)
    if not email:
        return lists.filter(archive_public=True)
    return lists.filter(Q(archive_public=True) | Q(members__address__iexact=email)).distinct()


def can_see_roster(user: AbstractBaseUser | AnonymousUser, mailing_list: Any) -> bool:
    """Whether the reader may see a list's members: the list shows them, to members and
    operators only."""
    if not mailing_list.members_visible or not user.is_authenticated:
        return False
    if is_operator(user):
        return True
    email = _list_member(user)
    return bool(email) and mailing_list.members.filter(address__iexact=email).exists()


def has_role(request: HttpRequest, role: str) -> bool:
    """Whether the member resolved for this request (by account_for) holds at least role."""
    membership = getattr(request, "membership", None)
    return bool(membership is not None and membership.has_role(role))
