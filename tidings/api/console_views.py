"""The console page where account admins create and revoke API tokens."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from tidings.accounts.access import account_view
from tidings.accounts.models import Account, Membership
from tidings.api import actions


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What will use it, e.g. 'website CMS'.")
    role = forms.ChoiceField(choices=Membership.ROLES, initial=Membership.VIEWER)


@account_view(Membership.ADMIN)
def tokens(request: HttpRequest, account: Account) -> HttpResponse:
    form = TokenForm(request.POST or None)
    secret = None
    if request.method == "POST" and form.is_valid():
        try:
            token, secret = actions.create_token(
                account,
                name=form.cleaned_data["name"],
                role=form.cleaned_data["role"],
                created_by=request.user,  # type: ignore[arg-type]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            # Shown on this answer only: the secret is not stored, so no redirect (PRG) here.
            messages.success(request, f"Created token {token.name}.")
            form = TokenForm()
    context = {
        "account": account,
        "tokens": account.api_tokens.select_related("created_by").order_by("revoked", "-id"),
        "form": form,
        "secret": secret,
    }
    return render(request, "api/tokens.html", context)


@require_POST
@account_view(Membership.ADMIN)
def revoke(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    token = get_object_or_404(account.api_tokens, pk=pk)
    if request.POST.get("confirmed") != "yes":
        context = {
            "account": account,
            "title": f"Revoke the token {token.name}?",
            "question": "Every program using it is refused from the next request on. This "
            "can't be undone: a new token would have to be made and given to them.",
            "action": reverse("api_console:revoke", args=[account.code, token.pk]),
            "fields": [],
            "button": f"Revoke {token.name}",
            "back": reverse("api_console:tokens", args=[account.code]),
        }
        return render(request, "console/confirm.html", context)
    actions.revoke_token(token)
    messages.success(request, f"Revoked token {token.name}; it is refused from now on.")
    return redirect("api_console:tokens", account.code)
