"""The console's media library: upload images, copy their addresses into a bulletin."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from tidings.accounts import media
from tidings.accounts.access import account_view, has_role
from tidings.accounts.models import Account, Membership


class UploadForm(forms.Form):
    image = forms.FileField(label="Image (PNG, JPEG, GIF or WebP, 5 MB at most)")


@account_view()
def library(request: HttpRequest, account: Account) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    can_upload = has_role(request, Membership.AUTHOR)
    if request.method == "POST" and can_upload and form.is_valid():
        try:
            stored = media.store(account, form.cleaned_data["image"])
        except ValidationError as error:
            form.add_error("image", error)
        else:
            messages.success(request, f"{stored.name} is in the library.")
            return redirect("console:media", account.code)
    images = [(m, media.media_url(m)) for m in account.media.order_by("-created")[:200]]
    context = {"account": account, "form": form, "images": images, "can_upload": can_upload}
    return render(request, "console/media.html", context, status=400 if form.errors else 200)
