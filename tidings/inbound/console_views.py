"""The captured outbox: mail for other domains that Tidings kept instead of sending out.

One outbox for the whole installation, so its pages are for operators (staff) only."""

from __future__ import annotations

from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods

from tidings.accounts.access import staff_view
from tidings.inbound.models import InboundMessage
from tidings.lib.mailtext import clean, header

MESSAGES_PER_PAGE = 50
SUMMARY_HEADERS = ("From", "To", "Cc", "Subject", "Date", "Message-ID")


def captured(pk: int) -> InboundMessage:
    return get_object_or_404(InboundMessage, pk=pk, captured=True)


@staff_view
@require_http_methods(["GET", "HEAD"])
def outbox(request: HttpRequest) -> HttpResponse:
    rows = (
        InboundMessage.objects.filter(captured=True)
        .only("received_at", "mail_from", "captured_rcpts", "subject")
        .order_by("-received_at", "-pk")
    )
    page = Paginator(rows, MESSAGES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "inbound/console/outbox.html", {"page": page})


@staff_view
@require_http_methods(["GET", "HEAD"])
def message(request: HttpRequest, pk: int) -> HttpResponse:
    inbound = captured(pk)
    raw = bytes(inbound.raw)
    parsed = message_from_bytes(raw, _class=EmailMessage, policy=default)
    headers = [(name, header(parsed, name)) for name in SUMMARY_HEADERS]
    context = {
        "inbound": inbound,
        "headers": [(name, value) for name, value in headers if value],
        "source": clean(raw.decode("utf-8", errors="replace")),
    }
    return render(request, "inbound/console/message.html", context)


@staff_view
@require_http_methods(["GET", "HEAD"])
def raw(request: HttpRequest, pk: int) -> HttpResponse:
    inbound = captured(pk)
    response = HttpResponse(bytes(inbound.raw), content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="message-{inbound.pk}.eml"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
