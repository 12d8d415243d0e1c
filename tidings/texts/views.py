"""The HTTP gateway's webhooks: texts from phones and status callbacks (delivery receipts).

Both answer at a secret path (texts.gateways.hook_token) that is given to the gateway with each
text (StatusCallback) and set as its inbound address. Field names are the common SMS APIs':
From, To, Body; MessageSid (or id, message_id) and MessageStatus (or status).
"""

from __future__ import annotations

import hmac

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from tidings.texts.actions import handle_text, record_receipts
from tidings.texts.gateways import hook_token


def _genuine(token: str) -> bool:
    return hmac.compare_digest(token, hook_token())


@csrf_exempt  # a gateway's callback: no session, the secret path is its credential
@require_POST
def inbound(request: HttpRequest, token: str) -> HttpResponse:
    if not _genuine(token):
        return JsonResponse({"error": "unknown hook"}, status=404)
    source = request.POST.get("From", "").strip()
    body = request.POST.get("Body", request.POST.get("Text", ""))
    if not source:
        return JsonResponse({"error": "From is required"}, status=400)
    with transaction.atomic():
        kept = handle_text(source, request.POST.get("To", "").strip(), body)
    return JsonResponse({"action": kept.action})


@csrf_exempt
@require_POST
def status(request: HttpRequest, token: str) -> HttpResponse:
    if not _genuine(token):
        return JsonResponse({"error": "unknown hook"}, status=404)
    data = request.POST
    message_id = data.get("MessageSid") or data.get("id") or data.get("message_id") or ""
    state = data.get("MessageStatus") or data.get("status") or ""
    if not message_id or not state:
        return JsonResponse({"error": "a message id and a status are required"}, status=400)
    detail = data.get("ErrorCode") or data.get("error") or ""
    known = record_receipts([(message_id, state, f"err:{detail}" if detail else "")])
    return JsonResponse({"known": bool(known)})
