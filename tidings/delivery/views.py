from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from tidings.delivery.actions import (
    SendStateError,
    cancel_send,
    pause_send,
    resume_send,
    send_counts,
)
from tidings.delivery.models import Delivery, Send

ACTIONS = {"pause": pause_send, "resume": resume_send, "cancel": cancel_send}


@staff_member_required
def send_list(request: HttpRequest) -> HttpResponse:
    sends = Send.objects.select_related("bulletin", "mailing_list").order_by("-id")[:50]
    return render(request, "delivery/send_list.html", {"sends": sends})


@staff_member_required
def send_detail(request: HttpRequest, pk: int) -> HttpResponse:
    send = get_object_or_404(Send.objects.select_related("bulletin", "mailing_list"), pk=pk)
    counts = send_counts(send)
    problems = send.deliveries.filter(state__in=[Delivery.DEFERRED, Delivery.FAILED]).order_by("id")
    context = {
        "send": send,
        "counts": counts,
        "rows": [(state, label, counts[state]) for state, label in Delivery.STATES],
        "problems": problems[:100],
        "refresh": send.state in (Send.PREPARING, Send.SENDING),
    }
    return render(request, "delivery/send_detail.html", context)


@staff_member_required
@require_POST
def send_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    send = get_object_or_404(Send, pk=pk)
    if action not in ACTIONS:
        return HttpResponse("Unknown action.", status=404)
    try:
        ACTIONS[action](send)
        messages.success(request, f"Send #{send.pk} is now {send.state}.")
    except SendStateError as exc:
        messages.error(request, str(exc))
    return redirect("delivery:send", pk=send.pk)
