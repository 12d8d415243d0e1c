from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tidings.accounts.access import account_view, accounts_of
from tidings.accounts.models import Account
from tidings.bulletins.models import Bulletin
from tidings.console.composer import STATES


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "console/home.html", {"accounts": accounts_of(request.user)})


@account_view()
def account_home(request: HttpRequest, account: Account) -> HttpResponse:
    bulletins = Bulletin.objects.filter(account=account)
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
        },
    )
