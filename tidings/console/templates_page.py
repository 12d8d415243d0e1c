"""The console's message templates: reusable headers, footers and layouts for bulletins."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from tidings.accounts.access import account_view
from tidings.accounts.models import Account, Membership
from tidings.bulletins import actions
from tidings.bulletins.models import MessageTemplate


class TemplateForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = MessageTemplate
        fields = ["name", "layout", "header", "footer"]
        widgets = {
            "header": forms.Textarea(attrs={"rows": 3}),
            "footer": forms.Textarea(attrs={"rows": 3}),
        }


@account_view(Membership.ADMIN)
def templates(request: HttpRequest, account: Account, pk: int | None = None) -> HttpResponse:
    """The account's templates, and the form for a new one (or the one chosen)."""
    chosen = get_object_or_404(MessageTemplate, pk=pk, account=account) if pk else None
    initial = {"header": account.header_template, "footer": account.footer_template}
    form = TemplateForm(request.POST or None, instance=chosen, initial=None if chosen else initial)
    if request.method == "POST":
        if "delete" in request.POST and chosen is not None:
            if request.POST.get("confirmed") != "yes":
                context = {
                    "account": account,
                    "title": f"Delete the template {chosen.name}?",
                    "question": "Drafts that use it go back to the account's own header and "
                    "footer; bulletins already sent are not changed.",
                    "action": request.path,
                    "fields": [("delete", "1")],
                    "button": f"Delete {chosen.name}",
                    "back": request.path,
                }
                return render(request, "console/confirm.html", context)
            actions.delete_template(chosen)
            messages.success(request, f"Deleted the template {chosen.name}.")
            return redirect("console:templates", account.code)
        if form.is_valid():
            data = form.cleaned_data
            try:
                saved = actions.save_template(
                    account, name=data["name"], header=data["header"], footer=data["footer"],
                    layout=data["layout"], template=chosen,
                )  # fmt: skip
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, f"Saved the template {saved.name}.")
                return redirect("console:template", account.code, saved.pk)
    context = {
        "account": account,
        "form": form,
        "chosen": chosen,
        "templates": account.message_templates.order_by("name"),
        "new_url": reverse("console:templates", args=[account.code]),
    }
    return render(request, "console/templates.html", context, status=400 if form.errors else 200)
