"""Console pages of an account's sends: progress, pause, resume and cancel."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from tidings.accounts.access import account_view, has_role, visible_sends
from tidings.accounts.models import Account, Membership
from tidings.delivery.actions import (
    SendStateError,
    cancel_send,
    pause_send,
    resume_send,
    send_counts,
)
from tidings.delivery.models import Delivery, Send

ACTIONS = {"pause": pause_send, "resume": resume_send, "cancel": cancel_send}


def sends_of(account: Account) -> QuerySet[Send]:
    """The account's sends: its bulletins, its lists' posts and digests, its notices."""
    mine = Q(account=account) | Q(bulletin__account=account) | Q(mailing_list__account=account)
    return Send.objects.filter(mine).select_related("bulletin", "mailing_list")


def sends_for(request: HttpRequest, account: Account) -> QuerySet[Send]:
    """The account's sends this member may see and control (a limited author: their topics')."""
    return visible_sends(request.membership, sends_of(account))  # type: ignore[attr-defined]


@account_view(Membership.VIEWER)
@require_http_methods(["GET", "HEAD"])
def send_list(request: HttpRequest, account: Account) -> HttpResponse:
    sends = sends_for(request, account).order_by("-id")[:50]
    return render(request, "delivery/console/sends.html", {"account": account, "sends": sends})


@account_view(Membership.VIEWER)
@require_http_methods(["GET", "HEAD"])
def send_detail(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    send = get_object_or_404(sends_for(request, account), pk=pk)
    counts = send_counts(send)
    problems = send.deliveries.filter(state__in=[Delivery.DEFERRED, Delivery.FAILED]).order_by("id")
    context = {
        "account": account,
        "send": send,
        "counts": counts,
        "rows": [(state, label, counts[state]) for state, label in Delivery.STATES],
        "problems": problems[:100],
        "refresh": send.state in (Send.PREPARING, Send.SENDING),
        "can_control": has_role(request, Membership.AUTHOR),
    }
    return render(request, "delivery/console/send.html", context)


@account_view(Membership.AUTHOR)
@require_POST
def send_action(request: HttpRequest, account: Account, pk: int, action: str) -> HttpResponse:
    send = get_object_or_404(sends_for(request, account), pk=pk)
    if action not in ACTIONS:
        return HttpResponse("Unknown action.", status=404)
    try:
        ACTIONS[action](send)
        messages.success(request, f"Send #{send.pk} is now {send.state}.")
    except SendStateError as exc:
        messages.error(request, str(exc))
    return redirect("delivery:send", account.code, send.pk)
