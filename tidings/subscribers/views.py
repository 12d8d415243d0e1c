"""The public subscribe page and the subscriber's own pages, reached through signed links."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from tidings.accounts.models import Account
from tidings.lib import pagecache
from tidings.lib.languages import speak_for
from tidings.lib.mail import normalize
from tidings.lib.pagecache import public_page
from tidings.lib.tokens import BadToken, ExpiredToken
from tidings.lib.web import client_network
from tidings.subscribers import actions, network
from tidings.subscribers.audiences import answers_of, questions_for, save_answers
from tidings.subscribers.forms import (
    AddressForm,
    AnswersForm,
    DeliveryForm,
    LanguageForm,
    SubscribeForm,
    TopicsForm,
    answered,
)
from tidings.subscribers.links import subscriber_from_token
from tidings.subscribers.models import Subscriber
from tidings.subscribers.tree import topic_tree


def bad_link(request: HttpRequest, error: BadToken) -> HttpResponse:
    context = {"reason": str(error), "days": settings.UNSUBSCRIBE_LINK_MAX_AGE // 86400}
    return render(request, "subscribers/bad_link.html", context, status=400)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@public_page
def subscribe(request: HttpRequest, code: str) -> HttpResponse:
    account = get_object_or_404(Account, code=code)
    pagecache.shows(request, pagecache.account(account.pk))
    language = speak_for(request, account=account.language)
    if request.method == "POST":
        return subscribe_post(request, account)
    return subscribe_page(request, account, SubscribeForm(account, initial={"language": language}))


@never_cache
@csrf_exempt  # Posted from the agency's own site, which holds no CSRF cookie of ours.
@require_POST
def embed(request: HttpRequest, code: str) -> HttpResponse:
    """Take the signup form pasted into another site: the same checks, limits and answer."""
    account = get_object_or_404(Account, code=code)
    speak_for(request, account=account.language)
    return subscribe_post(request, account)


def subscribe_post(request: HttpRequest, account: Account) -> HttpResponse:
    limit = settings.SUBSCRIBE_RATE_PER_IP
    if not actions.allow(f"subscribe-net:{client_network(request)}", limit, 3600):
        context = {"account": account, "limit": limit}
        return render(request, "subscribers/subscribe_throttled.html", context, status=429)
    form = SubscribeForm(account, request.POST)
    if not form.is_valid():
        return subscribe_page(request, account, form)
    # The answer in the language chosen for the mail (the form's own, else the page's).
    language = speak_for(request, own=form.cleaned_data.get("language", ""), account="")
    if not form.is_bot():
        actions.request_subscription(
            account,
            form.cleaned_data["email"],
            list(form.cleaned_data["topics"]),
            language=language,
        )
        if form.questions:
            # Only a new (unconfirmed) address takes answers from this open form: anyone may
            # type any address here, and a confirmed subscriber's answers change only on their
            # own preferences page (a signed link).
            asked = account.subscribers.filter(
                email=normalize(form.cleaned_data["email"]), status=Subscriber.PENDING
            )
            found = asked.first()
            if found is not None:
                save_answers(found, answered(form, form.questions))
    # The same answer whether the address is new, known, suppressed or throttled.
    opt_in = actions.settings_for(account).double_opt_in
    context = {"account": account, "email": form.cleaned_data["email"], "opt_in": opt_in}
    return render(request, "subscribers/subscribe_done.html", context)


def subscribe_page(request: HttpRequest, account: Account, form: SubscribeForm) -> HttpResponse:
    chosen = {str(v) for v in form["topics"].value() or []}
    context = {"account": account, "form": form, "tree": topic_tree(account), "chosen": chosen}
    return render(request, "subscribers/subscribe.html", context)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request: HttpRequest, code: str, token: str) -> HttpResponse:
    account = get_object_or_404(Account, code=code)
    speak_for(request, account=account.language)
    try:
        confirmation = actions.read_confirmation(code, token)
        speak_for(request, own=confirmation.subscriber.language, account=account.language)
        # Mail scanners open links, so the page only offers a button; the POST confirms.
        if request.method != "POST":
            context: dict[str, Any] = {"confirmation": confirmation, "account": account}
            return render(request, "subscribers/confirm.html", context)
        subscriber = actions.confirm(confirmation)
    except BadToken as e:
        context = {"reason": str(e), "account": account, "expired": isinstance(e, ExpiredToken)}
        return render(request, "subscribers/bad_confirm_link.html", context, status=400)
    context = {
        "subscriber": subscriber,
        "manage_url": actions.manage_url(subscriber),
        "suggestions": [
            (topic, network.offer_token(subscriber, topic))
            for topic in network.suggestions(subscriber)
        ],
    }
    return render(request, "subscribers/confirmed.html", context)


@never_cache
@require_POST
def network_offer(request: HttpRequest, token: str) -> HttpResponse:
    """One click on a suggestion of the network: the other account mails its confirmation."""
    try:
        subscriber, topic, done = network.take_offer(token)
    except BadToken as e:
        return bad_link(request, e)
    context = {"subscriber": subscriber, "topic": topic, "done": done}
    return render(request, "subscribers/network_offer.html", context)


def manage_context(subscriber: Subscriber, token: str, **extra: Any) -> dict[str, Any]:
    return {
        "subscriber": subscriber,
        "token": token,
        "form": TopicsForm(subscriber),
        "delivery_form": DeliveryForm(initial={"delivery_mode": subscriber.delivery_mode}),
        "address_form": AddressForm(),
        "answers_form": AnswersForm(questions_for(subscriber.account), answers_of(subscriber)),
        "language_form": LanguageForm(
            initial={"language": subscriber.language or subscriber.account.language}
        ),
        **extra,
    }


def subscriber_for(request: HttpRequest, token: str) -> Subscriber:
    """The subscriber a signed link names (BadToken if none), the page in their language."""
    subscriber = subscriber_from_token(token)
    speak_for(request, own=subscriber.language, account=subscriber.account.language)
    return subscriber


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def manage(request: HttpRequest, token: str) -> HttpResponse:
    try:
        subscriber = subscriber_for(request, token)
    except BadToken as e:
        return bad_link(request, e)

    if request.method == "POST":
        form = TopicsForm(subscriber, request.POST)
        if form.is_valid():
            actions.set_topics(subscriber, list(form.cleaned_data["topics"]))
            return render(
                request, "subscribers/manage.html", manage_context(subscriber, token, saved=True)
            )
        return render(
            request, "subscribers/manage.html", manage_context(subscriber, token, form=form)
        )
    return render(request, "subscribers/manage.html", manage_context(subscriber, token))


@never_cache
@require_POST
def answers(request: HttpRequest, token: str) -> HttpResponse:
    """Change one's answers to the account's questions (from the preferences page)."""
    try:
        subscriber = subscriber_for(request, token)
    except BadToken as e:
        return bad_link(request, e)
    form = AnswersForm(questions_for(subscriber.account), {}, request.POST)
    if form.is_valid():
        try:
            save_answers(subscriber, answered(form, form.questions))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            context = manage_context(subscriber, token, saved_answers=True)
            return render(request, "subscribers/manage.html", context)
    context = manage_context(subscriber, token, answers_form=form)
    return render(request, "subscribers/manage.html", context, status=400)


@never_cache
@require_POST
def delivery(request: HttpRequest, token: str) -> HttpResponse:
    try:
        subscriber = subscriber_for(request, token)
    except BadToken as e:
        return bad_link(request, e)
    form = DeliveryForm(request.POST)
    if not form.is_valid():
        context = manage_context(subscriber, token, delivery_form=form)
        return render(request, "subscribers/manage.html", context, status=400)
    actions.set_delivery_mode(subscriber, form.cleaned_data["delivery_mode"])
    context = manage_context(subscriber, token, saved_delivery=True)
    return render(request, "subscribers/manage.html", context)


@never_cache
@require_POST
def language(request: HttpRequest, token: str) -> HttpResponse:
    """Choose the language of one's mail (and of these pages)."""
    try:
        subscriber = subscriber_for(request, token)
    except BadToken as e:
        return bad_link(request, e)
    form = LanguageForm(request.POST)
    if not form.is_valid():
        context = manage_context(subscriber, token, language_form=form)
        return render(request, "subscribers/manage.html", context, status=400)
    actions.set_language(subscriber, form.cleaned_data["language"])
    speak_for(request, own=subscriber.language)
    context = manage_context(subscriber, token, saved_language=True)
    return render(request, "subscribers/manage.html", context)


@never_cache
@require_POST
def change_address(request: HttpRequest, token: str) -> HttpResponse:
    try:
        subscriber = subscriber_for(request, token)
    except BadToken as e:
        return bad_link(request, e)
    form = AddressForm(request.POST)
    if form.is_valid():
        try:
            actions.request_address_change(subscriber, form.cleaned_data["email"])
        except ValidationError as exc:
            form.add_error("email", exc)
    if not form.is_valid():
        context = manage_context(subscriber, token, address_form=form)
        return render(request, "subscribers/manage.html", context, status=400)
    context = manage_context(subscriber, token, new_address=form.cleaned_data["email"])
    return render(request, "subscribers/manage.html", context)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def delete(request: HttpRequest, token: str) -> HttpResponse:
    try:
        subscriber = subscriber_for(request, token)
    except BadToken as e:
        return bad_link(request, e)
    context = {"subscriber": subscriber, "token": token, "account": subscriber.account}
    if request.method == "POST":
        actions.delete_subscriber(subscriber)
        return render(request, "subscribers/deleted.html", context)
    return render(request, "subscribers/delete.html", context)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        subscriber = subscriber_for(request, token)
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
        subscriber = subscriber_for(request, token)
    except BadToken as e:
        return HttpResponse(str(e), status=400, content_type="text/plain; charset=utf-8")
    if request.POST.get("List-Unsubscribe") != "One-Click":
        message = "Expected the form body List-Unsubscribe=One-Click (RFC 8058)."
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
    actions.unsubscribe_all(subscriber)
    return HttpResponse("Unsubscribed.", content_type="text/plain; charset=utf-8")
