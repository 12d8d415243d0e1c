"""The lists in the console: settings, members, invitations and imports, the moderation queue.

Viewers may look at everything; topic admins and admins change things.
"""

from __future__ import annotations

import contextlib
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from tidings.accounts.access import account_for, account_view, has_role
from tidings.accounts.models import Account, Membership
from tidings.inbound.models import InboundMessage
from tidings.inbound.router import parse
from tidings.lib.web import posted_id
from tidings.lists import actions, importer, membership
from tidings.lists.forms import AddressesForm, RejectForm, SenderForm, SettingsForm
from tidings.lists.members import members_page
from tidings.lists.models import ListMessage, ListSender, MailingList, Member
from tidings.lists.rules import plain_text

HELD_PER_PAGE = 50
# The queue shows the start of each held post's text; larger posts are not parsed for it.
PREVIEW_MAX_SIZE = 512 * 1024
PREVIEW_CHARS = 1500
MANAGE = Membership.TOPIC_ADMIN


def list_of(request: HttpRequest, code: str, name: str, role: str) -> MailingList:
    """Return the account's list if the user holds `role` in the account, else raise 404."""
    account = account_for(request, code, role)
    return get_object_or_404(
        MailingList.objects.select_related("account"), account=account, name=name
    )


def role_for(request: HttpRequest) -> str:
    """The role a POST needs: changing things is for topic admins and admins."""
    return MANAGE if request.method == "POST" else Membership.VIEWER


def can_manage(request: HttpRequest) -> bool:
    return bool(has_role(request, MANAGE))


@account_view()
@require_http_methods(["GET", "HEAD"])
def index(request: HttpRequest, account: Account) -> HttpResponse:
    lists = (
        MailingList.objects.filter(account=account)
        .annotate(held=Count("messages", filter=Q(messages__status=ListMessage.HELD)))
        .order_by("name")
    )
    return render(request, "lists/console/index.html", {"account": account, "lists": lists})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def settings_page(request: HttpRequest, account: str, name: str) -> HttpResponse:
    mailing_list = list_of(request, account, name, role_for(request))
    form = SettingsForm(request.POST or None, instance=mailing_list)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Saved the settings of {mailing_list.address}.")
        return redirect("lists_console:settings", account, name)
    context = {"mailing_list": mailing_list, "form": form, "can_manage": can_manage(request)}
    return render(
        request, "lists/console/settings.html", context, status=400 if form.errors else 200
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def members(request: HttpRequest, account: str, name: str) -> HttpResponse:
    mailing_list = list_of(request, account, name, role_for(request))
    if request.method == "POST":
        member = get_object_or_404(
            Member, pk=posted_id(request.POST.get("member")), mailing_list=mailing_list
        )
        action = request.POST.get("action")
        if action == "remove":
            membership.remove_member(mailing_list, member.address)
            messages.info(request, f"Removed {member.address}.")
        elif action in dict(Member.DELIVERY_MODES):
            membership.set_delivery_mode(member, action)
            messages.info(
                request, f"{member.address} now gets {dict(Member.DELIVERY_MODES)[action]}."
            )
        return redirect(request.get_full_path())
    query = request.GET.get("q", "").strip()[:254]
    after = request.GET.get("after", "")[:254]
    page, next_key = members_page(mailing_list, query, after)
    context: dict[str, Any] = {
        "mailing_list": mailing_list,
        "members": page,
        "query": query,
        "after": after,
        "next_key": next_key,
        "modes": Member.DELIVERY_MODES,
        "can_manage": can_manage(request),
    }
    return render(request, "lists/console/members.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def add_members(request: HttpRequest, account: str, name: str) -> HttpResponse:
    mailing_list = list_of(request, account, name, MANAGE)
    form = AddressesForm(request.POST or None)
    report = None
    if request.method == "POST" and form.is_valid():
        report = importer.import_members(
            mailing_list,
            form.cleaned_data["addresses"],
            delivery_mode=form.cleaned_data["delivery_mode"],
            invite=request.POST.get("how") == "invite",
            by=request.user.get_username(),
        )
    context = {"mailing_list": mailing_list, "form": form, "report": report}
    status = 400 if form.errors or (report and report.errors) else 200
    return render(request, "lists/console/add_members.html", context, status=status)


def moderate(request: HttpRequest, record: ListMessage) -> None:
    """Carry out the moderator's choice on one held post; say what happened."""
    who = request.user.get_username()
    action = request.POST.get("action")
    if action in ("approve", "accept"):
        actions.approve_post(record, moderator=who, accept_sender=action == "accept")
        messages.success(request, f"Approved the post {record.subject!r}.")
    elif action == "reject":
        form = RejectForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Give a reason: the author is told it.")
            return
        actions.reject_post(record, form.cleaned_data["reason"], moderator=who)
        messages.info(request, f"Rejected the post {record.subject!r}; the author was told.")
    elif action == "discard":
        actions.discard_post(record, moderator=who)
        messages.info(request, f"Discarded the post {record.subject!r}.")
    else:
        messages.error(request, "Choose approve, reject or discard.")


def with_previews(records: list[ListMessage]) -> list[ListMessage]:
    """Set .preview on each held post: the start of its text, for posts small enough to parse."""
    raws = dict(
        InboundMessage.objects.filter(
            pk__in=[r.inbound_id for r in records], size__lte=PREVIEW_MAX_SIZE
        ).values_list("pk", "raw")
    )
    for record in records:
        raw = raws.get(record.inbound_id)
        msg = parse(bytes(raw))[0] if raw is not None else None
        if msg is None:
            record.preview = "(no preview: the post is too large or malformed)"  # type: ignore[attr-defined]
        else:
            record.preview = plain_text(msg)[:PREVIEW_CHARS]  # type: ignore[attr-defined]
    return records


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def queue(request: HttpRequest, account: str, name: str) -> HttpResponse:
    mailing_list = list_of(request, account, name, role_for(request))
    if request.method == "POST":
        record = get_object_or_404(
            ListMessage.objects.select_related("mailing_list", "inbound"),
            pk=posted_id(request.POST.get("post")),
            mailing_list=mailing_list,
        )
        if request.POST.get("action") == "discard" and request.POST.get("confirmed") != "yes":
            asking: dict[str, Any] = {
                "account": mailing_list.account,
                "title": f"Discard the post {record.subject!r}?",
                "question": f"It is dropped without a word to {record.sender or 'its sender'} "
                "and never reaches the list (for spam). To tell the author why, reject it instead.",
                "action": reverse("lists_console:queue", args=[account, name]),
                "fields": [("post", record.pk), ("action", "discard")],
                "button": "Discard",
                "back": reverse("lists_console:queue", args=[account, name]),
            }
            return render(request, "console/confirm.html", asking)
        try:
            moderate(request, record)
        except actions.ModerationError as exc:
            messages.error(request, str(exc))
        return redirect("lists_console:queue", account, name)
    held = ListMessage.objects.filter(mailing_list=mailing_list, status=ListMessage.HELD)
    after = request.GET.get("after", "")
    if after.isdigit():
        held = held.filter(pk__gt=int(after))
    page = list(
        held.order_by("pk").only("inbound_id", "sender", "subject", "rule", "reason", "created")[
            : HELD_PER_PAGE + 1
        ]
    )
    context = {
        "mailing_list": mailing_list,
        "held": with_previews(page[:HELD_PER_PAGE]),
        "next_key": page[HELD_PER_PAGE - 1].pk if len(page) > HELD_PER_PAGE else "",
        "can_manage": can_manage(request),
    }
    return render(request, "lists/console/queue.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def senders(request: HttpRequest, account: str, name: str) -> HttpResponse:
    """The list's per-sender overrides: always accept, always hold, reject, discard, ban."""
    mailing_list = list_of(request, account, name, role_for(request))
    form = SenderForm(request.POST or None)
    if request.method == "POST":
        if request.POST.get("remove"):
            with contextlib.suppress(ValueError):
                actions.remove_sender_action(mailing_list, int(request.POST["remove"]))
            return redirect("lists_console:senders", account, name)
        if form.is_valid():
            address, action = form.cleaned_data["address"], form.cleaned_data["action"]
            actions.set_sender_action(mailing_list, address, action)
            messages.success(request, f"{address}: {dict(ListSender.ACTIONS)[action]}.")
            return redirect("lists_console:senders", account, name)
    rows = ListSender.objects.filter(mailing_list=mailing_list).order_by("address")
    context = {
        "mailing_list": mailing_list,
        "form": form,
        "senders": rows,
        "can_manage": can_manage(request),
    }
    return render(
        request, "lists/console/senders.html", context, status=400 if form.errors else 200
    )
