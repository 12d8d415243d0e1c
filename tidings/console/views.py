from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tidings.accounts.access import account_view, accounts_of
from tidings.accounts.models import Account


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "console/home.html", {"accounts": accounts_of(request.user)})


@account_view()
def account_home(request: HttpRequest, account: Account) -> HttpResponse:
    return render(request, "console/account.html", {"account": account})
