"""The subscriber's own pages, reached through the signed links in every bulletin."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from tidings.lib.tokens import BadToken, unsign_id
from tidings.subscribers import actions
from tidings.subscribers.forms import TopicsForm
from tidings.subscribers.models import Subscriber


def subscriber_from_token(token: str) -> Subscriber:
    """Return the subscriber a link names; raise BadToken or Http404."""
    ident = unsign_id("subscriber", token, settings.UNSUBSCRIBE_LINK_MAX_AGE)
    return get_object_or_404(Subscriber.objects.select_related("account"), pk=ident)


def bad_link(request: HttpRequest, error: BadToken) -> HttpResponse:
    context = {"reason": str(error), "days": settings.UNSUBSCRIBE_LINK_MAX_AGE // 86400}
    return render(request, "subscribers/bad_link.html", context, status=400)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def manage(request: HttpRequest, token: str) -> HttpResponse:
    try:
        subscriber = subscriber_from_token(token)
    except BadToken as e:
        return bad_link(request, e)

    saved = False
    if request.method == "POST":
        form = TopicsForm(subscriber, request.POST)
        if form.is_valid():
            actions.set_topics(subscriber, list(form.cleaned_data["topics"]))
            saved = True
            form = TopicsForm(subscriber)
    else:
        form = TopicsForm(subscriber)
    context = {"subscriber": subscriber, "token": token, "form": form, "saved": saved}
    return render(request, "subscribers/manage.html", context)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        subscriber = subscriber_from_token(token)
    except BadToken as e:
        return bad_link(request, e)

    # Mail scanners follow links, so only the button's POST may change anything.
    done = False
    if request.method == "POST":
        actions.unsubscribe_all(subscriber)
        done = True
    context = {"subscriber": subscriber, "token": token, "done": done}
    return render(request, "subscribers/unsubscribe.html", context)


@csrf_exempt  # The signed token is the authentication; mail providers send no cookies.
@require_POST
def one_click(request: HttpRequest, token: str) -> HttpResponse:
    """Unsubscribe from everything at a mail provider's request (RFC 8058)."""
    try:
        subscriber = subscriber_from_token(token)
    except BadToken as e:
        return HttpResponse(str(e), status=400, content_type="text/plain; charset=utf-8")
    if request.POST.get("List-Unsubscribe") != "One-Click":
        message = "Expected the form body List-Unsubscribe=One-Click (RFC 8058)."
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
    actions.unsubscribe_all(subscriber)
    return HttpResponse("Unsubscribed.", content_type="text/plain; charset=utf-8")
