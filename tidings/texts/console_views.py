"""Console pages of text messages: the program's number and HELP answer, topic keywords, the
numbers that get texts, texts received and, with no gateway set, the captured outbox."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from tidings.accounts.access import account_view, has_role, visible_sends
from tidings.accounts.models import Account, Membership
from tidings.delivery.models import Send
from tidings.lib.web import posted_ids
from tidings.texts import actions
from tidings.texts.gateways import hook_token
from tidings.texts.models import CapturedText, InboundText, Keyword, Phone, TextProgram
from tidings.topics.models import Topic


class ProgramForm(forms.ModelForm):
    class Meta:
        model = TextProgram
        fields = ["number", "help_text", "contact"]


@account_view()
def index(request: HttpRequest, account: Account) -> HttpResponse:
    topics = Topic.objects.filter(account=account).order_by("name")
    words = dict(Keyword.objects.filter(account=account).values_list("topic_id", "word"))
    phones = Phone.objects.filter(account=account).order_by("-created")
    numbers = [p.number for p in phones[:200]]
    captured = (
        CapturedText.objects.filter(destination__in=[n.lstrip("+") for n in numbers]).order_by(
            "-pk"
        )[:50]
        if not settings.SMS_GATEWAY
        else []
    )
    context = {
        "account": account,
        "program": actions.program(account),
        "form": ProgramForm(instance=actions.program(account)),
        "topics": [(t, words.get(t.pk, "")) for t in topics],
        "phones": phones[:200],
        "counts": {s: phones.filter(status=s).count() for s, _ in Phone.STATUSES},
        "inbound": InboundText.objects.filter(account=account).order_by("-pk")[:50],
        "captured": captured,
        "sends": visible_sends(
            request.membership,  # type: ignore[attr-defined]
            Send.objects.filter(channel=Send.TEXT, bulletin__account=account),
        )
        .select_related("bulletin")
        .order_by("-pk")[:20],
        "gateway": settings.SMS_GATEWAY.split("@")[-1] if settings.SMS_GATEWAY else "",
        "can_edit": has_role(request, Membership.ADMIN),
    }
    if context["can_edit"]:
        token = hook_token()
        context["hooks"] = {
            "inbound": settings.BASE_URL + reverse("texting:hook_inbound", args=[token]),
            "status": settings.BASE_URL + reverse("texting:hook_status", args=[token]),
        }
    return render(request, "texts/index.html", context)


@require_POST
@account_view(Membership.ADMIN)
def program_settings(request: HttpRequest, account: Account) -> HttpResponse:
    form = ProgramForm(request.POST, instance=actions.program(account))
    if form.is_valid():
        form.save()
        messages.success(request, "Text message settings saved.")
    else:
        messages.error(request, f"Not saved: {form.errors.as_text()}")
    return redirect("texts:index", account.code)


@require_POST
@account_view(Membership.ADMIN)
def add_number(request: HttpRequest, account: Account) -> HttpResponse:
    chosen = posted_ids(request.POST.getlist("topics"))
    topics = list(Topic.objects.filter(account=account, pk__in=chosen))
    try:
        phone = actions.subscribe_number(
            account, request.POST.get("number", ""), topics, source=Phone.CONSOLE
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{phone.number} gets texts of {len(topics)} topics.")
    return redirect("texts:index", account.code)


@require_POST
@account_view(Membership.ADMIN)
def keyword(request: HttpRequest, account: Account, topic: int) -> HttpResponse:
    found = get_object_or_404(Topic, pk=topic, account=account)
    try:
        actions.set_keyword(found, request.POST.get("word", ""))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Keyword of {found.name} saved.")
    return redirect("texts:index", account.code)
