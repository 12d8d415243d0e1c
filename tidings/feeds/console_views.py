"""Console pages of watched feeds and pages: topic admins edit, viewers read."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from tidings.accounts.access import account_view, has_role
from tidings.accounts.models import Account, Membership
from tidings.bulletins.models import Bulletin
from tidings.feeds import actions
from tidings.feeds.forms import WatchForm
from tidings.feeds.models import Watch
from tidings.feeds.poll import poll_watch
from tidings.lib.html import markdown_to_html, sanitize
from tidings.topics.models import Topic

EDITOR = Membership.TOPIC_ADMIN


def _can_edit(request: HttpRequest) -> bool:
    return bool(has_role(request, EDITOR))


def _watch(account: Account, pk: int) -> Watch:
    return get_object_or_404(
        Watch.objects.select_related("topic__account"), pk=pk, topic__account=account
    )


@account_view()
def index(request: HttpRequest, account: Account) -> HttpResponse:
    watches = Watch.objects.filter(topic__account=account).select_related("topic")
    topic = None
    if request.GET.get("topic", "").isdigit():
        topic = get_object_or_404(Topic, pk=int(request.GET["topic"]), account=account)
        watches = watches.filter(topic=topic)
    context = {
        "account": account,
        "topic": topic,
        "watches": watches.order_by("topic__name", "pk"),
        "drafts": actions.watch_drafts(account).count(),
        "can_edit": _can_edit(request),
    }
    return render(request, "feeds/index.html", context)


@account_view()
def detail(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    watch = _watch(account, pk)
    items = watch.items.select_related("bulletin").order_by("-first_seen_at", "-pk")[:50]
    context = {"account": account, "watch": watch, "items": items, "can_edit": _can_edit(request)}
    return render(request, "feeds/watch.html", context)


def _save(request: HttpRequest, account: Account, watch: Watch | None) -> HttpResponse:
    form = WatchForm(request.POST or None, instance=watch, account=account)
    if request.method == "POST" and form.is_valid():
        try:
            saved = actions.save_watch(form.instance, account)
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            messages.success(request, "The watch is saved; it is polled within minutes.")
            return redirect("feeds:watch", account.code, saved.pk)
    return render(request, "feeds/form.html", {"account": account, "form": form, "watch": watch})


@account_view(EDITOR)
def add(request: HttpRequest, account: Account) -> HttpResponse:
    return _save(request, account, None)


@account_view(EDITOR)
def edit(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    return _save(request, account, _watch(account, pk))


@account_view(EDITOR)
def delete(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    watch = _watch(account, pk)
    if request.method == "POST":
        actions.delete_watch(watch)
        messages.success(request, f"The watch of {watch.url} is deleted.")
        return redirect("feeds:index", account.code)
    return render(request, "feeds/delete.html", {"account": account, "watch": watch})


@require_POST
@account_view(EDITOR)
def poll_now(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    watch = _watch(account, pk)
    result = poll_watch(watch)
    if result.error:
        messages.error(request, f"The poll failed: {result.error}")
    elif result.not_modified:
        messages.info(request, "Not modified since the last poll.")
    else:
        messages.success(
            request,
            f"Polled: {len(result.sent)} sent, {len(result.drafts)} drafts for review, "
            f"{result.primed} existing items recorded.",
        )
    return redirect("feeds:watch", account.code, watch.pk)


@account_view()
def drafts(request: HttpRequest, account: Account) -> HttpResponse:
    bulletins = actions.watch_drafts(account).prefetch_related("topics")
    context = {"account": account, "drafts": bulletins, "can_edit": _can_edit(request)}
    return render(request, "feeds/drafts.html", context)


def _draft(account: Account, pk: int) -> Bulletin:
    return get_object_or_404(
        Bulletin.objects.filter(account=account, feed_items__isnull=False).distinct(), pk=pk
    )


@account_view()
def draft(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    bulletin = _draft(account, pk)
    context = {
        "account": account,
        "bulletin": bulletin,
        "body_html": sanitize(bulletin.body)
        if bulletin.body_format == Bulletin.HTML
        else markdown_to_html(bulletin.body),
        "topics": bulletin.topics.order_by("name"),
        "sources": bulletin.feed_items.select_related("watch"),
        "can_edit": _can_edit(request),
    }
    return render(request, "feeds/draft.html", context)


@require_POST
@account_view(EDITOR)
def publish(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    bulletin = _draft(account, pk)
    try:
        send = actions.publish_draft(account, bulletin)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("feeds:draft", account.code, bulletin.pk)
    messages.success(
        request, f"Published “{bulletin.subject}” to {send.deliveries.count()} recipients."
    )
    return redirect("feeds:drafts", account.code)
