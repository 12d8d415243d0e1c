from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from tidings.accounts.access import account_view, accounts_of, topic_limit, visible_bulletins
from tidings.accounts.models import Account
from tidings.bulletins.models import Bulletin
from tidings.console.composer import STATES
from tidings.delivery.models import Delivery, Send


@login_required
def home(request: HttpRequest) -> HttpResponse:
    accounts = list(accounts_of(request.user)[:2])
    if len(accounts) == 1 and "all" not in request.GET:
        return redirect("console:account", accounts[0].code)  # one account: straight to it
    return render(request, "console/home.html", {"accounts": accounts_of(request.user)})


@account_view()
def account_home(request: HttpRequest, account: Account) -> HttpResponse:
    membership = request.membership  # type: ignore[attr-defined]
    # A limited author's home counts and lists their topics' bulletins only, and no notices.
    bulletins = visible_bulletins(membership, Bulletin.objects.filter(account=account))
    limited = topic_limit(membership) is not None
    totals = {
        row["status"]: row["n"]
        for row in bulletins.values("status").annotate(n=Count("id")).order_by()
    }
    return render(
        request,
        "console/account.html",
        {
            "account": account,
            "states": [(key, label, totals.get(key, 0)) for key, label in STATES],
            "latest": bulletins.order_by("-created", "-pk")[:5],
            "failed_notices": [] if limited else failed_notices(account),
        },
    )


def failed_notices(account: Account, days: int = 14, limit: int = 20) -> list[Delivery]:
    """The account's notices (owner, moderator, comment, confirmation mail) that could not be
    delivered lately, newest first: otherwise nobody would learn that they never arrived."""
    since = timezone.now() - timedelta(days=days)
    return list(
        Delivery.objects.filter(
            send__account=account,
            send__kind=Send.NOTICE,
            send__created__gte=since,
            state=Delivery.FAILED,
        )
        .select_related("send")
        .order_by("-send__created", "-pk")[:limit]
    )
