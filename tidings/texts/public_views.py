"""Public pages: get an account's topics by text; a subscriber's own text choices."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from tidings.accounts.models import Account
from tidings.lib.languages import speak_for
from tidings.lib.tokens import BadToken
from tidings.lib.web import client_network, posted_id
from tidings.subscribers.actions import allow
from tidings.subscribers.links import subscriber_from_token
from tidings.subscribers.views import bad_link
from tidings.texts import actions
from tidings.texts.models import Phone
from tidings.topics.models import Topic


class TextsForm(forms.Form):
    number = forms.CharField(
        label=_("Mobile number"),
        max_length=32,
        help_text=_("With the country code, e.g. +254 712 345 678."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    topics = forms.ModelMultipleChoiceField(
        queryset=Topic.objects.none(), widget=forms.CheckboxSelectMultiple, required=True
    )

    def __init__(self, account: Account, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["topics"].queryset = Topic.objects.filter(  # type: ignore[attr-defined]
            account=account, listed=True
        ).order_by("name")

    def clean_number(self) -> str:
        return actions.normalize_number(self.cleaned_data["number"])


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def join(request: HttpRequest, code: str) -> HttpResponse:
    """Give a number texts of topics: it must answer YES to the text we send."""
    account = get_object_or_404(Account, code=code)
    speak_for(request, account=account.language)
    form = TextsForm(account, request.POST or None)
    context: dict[str, object] = {"account": account, "form": form}
    if request.method == "POST":
        limit = settings.SUBSCRIBE_RATE_PER_IP
        if not allow(f"texts-net:{client_network(request)}", limit, 3600):
            return render(request, "texts/throttled.html", context, status=429)
        if form.is_valid():
            try:
                actions.subscribe_number(
                    account, form.cleaned_data["number"], list(form.cleaned_data["topics"])
                )
            except ValidationError as error:
                form.add_error("number", error)
            else:
                context["asked"] = form.cleaned_data["number"]
    return render(request, "texts/join.html", context, status=400 if form.errors else 200)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def mine(request: HttpRequest, token: str) -> HttpResponse:
    """A subscriber's numbers and the topics each gets by text (from the preferences page)."""
    try:
        subscriber = subscriber_from_token(token)
    except BadToken as error:
        return bad_link(request, error)
    account = subscriber.account
    speak_for(request, own=subscriber.language, account=account.language)
    phones = Phone.objects.filter(account=account, subscriber=subscriber).order_by("pk")
    initial = {"topics": list(subscriber.subscriptions.values_list("topic_id", flat=True))}
    form = TextsForm(account, request.POST or None, initial=initial)
    context: dict[str, object] = {"account": account, "form": form, "token": token}
    if request.method == "POST":
        if "stop" in request.POST:
            phone = phones.filter(pk=posted_id(request.POST.get("stop"))).first()
            if phone is not None:
                actions.stop_number(phone)
                context["stopped"] = phone.number
        elif form.is_valid():
            number, topics = form.cleaned_data["number"], list(form.cleaned_data["topics"])
            try:
                phone = actions.subscribe_number(
                    account, number, topics, subscriber_id=subscriber.pk
                )
                actions.set_text_topics(phone, topics)
            except ValidationError as error:
                form.add_error("number", error)
            else:
                context["saved"] = phone
    context["phones"] = [
        (p, ", ".join(p.topics.order_by("name").values_list("name", flat=True)))
        for p in phones.all()
    ]
    return render(request, "texts/mine.html", context, status=400 if form.errors else 200)
