"""The composer and the bulletin pages: write, preview, test, send or schedule a bulletin."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from tidings.accounts.access import account_view, allowed_topics, visible_bulletins
from tidings.accounts.models import Account, Membership
from tidings.bulletins import actions
from tidings.bulletins.models import Bulletin
from tidings.console.forms import BulletinForm
from tidings.delivery.actions import send_counts
from tidings.delivery.models import Delivery, Send
from tidings.lib import segments
from tidings.lib.html import markdown_to_html, sanitize
from tidings.subscribers.models import Subscriber
from tidings.texts.actions import text_recipient_count

SAMPLE_RECIPIENT = "subscriber@example.com"
# The preview frame shows hostile-until-proven-otherwise HTML: no script, nothing fetched but
# images, no navigation of the console, and only the console may frame it.
PREVIEW_POLICY = (
    "default-src 'none'; img-src https: data:; style-src 'unsafe-inline'; "
    "sandbox; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)
STATES = [
    (Bulletin.DRAFT, "Drafts"),
    (Bulletin.SCHEDULED, "Scheduled"),
    (Bulletin.SENDING, "Sending"),
    (Bulletin.SENT, "Sent"),
]


def _bulletin(account: Account, pk: int) -> Bulletin:
    return get_object_or_404(
        Bulletin.objects.select_related("account", "sender"), pk=pk, account=account
    )


def _visible(request: HttpRequest, account: Account, pk: int) -> Bulletin:
    """Return a bulletin the member may see (a limited author: only their topics')."""
    bulletins = Bulletin.objects.select_related("account", "sender").filter(account=account)
    visible = visible_bulletins(request.membership, bulletins)  # type: ignore[attr-defined]
    return get_object_or_404(visible, pk=pk)


def _writable(request: HttpRequest, account: Account, pk: int) -> Bulletin:
    """Return a bulletin the member may change: every one of its topics must be theirs."""
    bulletin = _bulletin(account, pk)
    allowed = allowed_topics(request.membership)  # type: ignore[attr-defined]
    if bulletin.topics.exclude(pk__in=allowed.values("pk")).exists():
        raise Http404("No such bulletin.")
    return bulletin


def report_url(account: Account, bulletin: Bulletin) -> str:
    """Return the analytics report's URL, or "" while it has none: only a published bulletin
    (sending or sent) has a report; a draft's or a scheduled one's link would be a 404."""
    if bulletin.status not in (Bulletin.SENDING, Bulletin.SENT):
        return ""
    try:
        return reverse("insights:report", args=[account.code, bulletin.pk])
    except NoReverseMatch:
        return ""


def web_copy_url(bulletin: Bulletin) -> str:
    try:
        return reverse("bulletins:web_copy", args=[bulletin.pk])
    except NoReverseMatch:
        return ""


def _edit_url(account: Account, bulletin: Bulletin) -> str:
    return reverse("console:bulletin_edit", args=[account.code, bulletin.pk])


def _detail_url(account: Account, bulletin: Bulletin) -> str:
    return reverse("console:bulletin", args=[account.code, bulletin.pk])


def segment_count(text: str) -> str:
    """What a text message version takes, as the composer shows it."""
    length, count, coding = segments.count(text.strip())
    if not length:
        return "No text written: the title and the web copy's address are sent."
    return f"{length} characters, {count} segment{'s' if count != 1 else ''} ({coding})."


def _save(form: BulletinForm, account: Account, bulletin: Bulletin | None, user: Any) -> Bulletin:
    data = form.cleaned_data
    fields = {
        "subject": data["subject"],
        "body": data["body"],
        "body_format": data["body_format"],
        "text": data["text"],
        "template": data["template"],
        "segment": data["segment"],
        "topics": list(data["topics"]),
        "sender": data["sender"],
    }
    if bulletin is None:
        return actions.create_bulletin(account, created_by=user, **fields)
    return actions.update_draft(bulletin, **fields)


def _act(request: HttpRequest, account: Account, bulletin: Bulletin, form: BulletinForm) -> str:
    """Carry out the button pressed after saving the draft; return where to go next."""
    action = request.POST.get("action", "save")
    edit = _edit_url(account, bulletin)
    try:
        if action == "preview":
            query = urlencode({"preview_as": form.cleaned_data.get("preview_as", "")})
            return f"{edit}?{query}#preview"
        if action == "test":
            sent = actions.send_test(bulletin, form.addresses())
            messages.success(request, f"Test sent to {sent} address{'es' if sent != 1 else ''}.")
            return edit
        if action == "send":
            # Saved: the next page shows exactly who it goes to and asks to confirm.
            return reverse("console:bulletin_send", args=[account.code, bulletin.pk])
        if action == "schedule":
            when = form.cleaned_data.get("schedule_at")
            if when is None:
                raise ValidationError("Choose the date and time to send it.")
            actions.schedule_bulletin(bulletin, when)
            local = when.astimezone(account.tz).strftime("%m/%d/%Y %I:%M %p %Z")
            messages.success(request, f"Scheduled for {local}.")
            return _detail_url(account, bulletin)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return edit
    messages.success(request, "Draft saved.")
    return edit


def _preview(bulletin: Bulletin, preview_as: str) -> tuple[str, EmailMessage]:
    """Return the preview's recipient and the message they would get."""
    email = preview_as.strip().lower() or SAMPLE_RECIPIENT
    subscriber = Subscriber.objects.filter(account=bulletin.account, email=email).first()
    topic = None
    if subscriber is not None:
        topic = bulletin.topics.filter(subscriptions__subscriber=subscriber).order_by("pk").first()
    msg = actions.preview_message(
        bulletin, recipient=email, subscriber_id=subscriber.pk if subscriber else 0, topic=topic
    )
    return email, msg


def _part(msg: EmailMessage, subtype: str) -> str:
    part = msg.get_body(preferencelist=(subtype,))
    content = part.get_content() if part is not None else ""
    return str(content).replace("\r\n", "\n")


@account_view(Membership.AUTHOR)
def compose(request: HttpRequest, account: Account, pk: int | None = None) -> HttpResponse:
    bulletin = _writable(request, account, pk) if pk else None
    if bulletin is not None and bulletin.status != Bulletin.DRAFT:
        messages.info(request, f"This bulletin is {bulletin.status}; only drafts can be edited.")
        return redirect(_detail_url(account, bulletin))
    topics = allowed_topics(request.membership)  # type: ignore[attr-defined]
    if request.method == "POST":
        form = BulletinForm(request.POST, account=account, topics=topics)
        if form.is_valid():
            try:
                bulletin = _save(form, account, bulletin, request.user)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return redirect(_act(request, account, bulletin, form))
    elif bulletin is not None:
        form = BulletinForm(
            initial={
                "subject": bulletin.subject,
                "body": bulletin.body,
                "body_format": bulletin.body_format,
                "text": bulletin.text,
                "template": bulletin.template,
                "segment": bulletin.segment,
                "topics": list(bulletin.topics.all()),
                "sender": bulletin.sender,
                "preview_as": request.GET.get("preview_as", ""),
            },
            account=account,
            topics=topics,
        )
    else:
        form = BulletinForm(account=account, topics=topics)
    context: dict[str, Any] = {"account": account, "bulletin": bulletin, "form": form}
    context["text_count"] = segment_count(str(form["text"].value() or ""))
    if bulletin is not None and request.method == "GET":
        recipient, msg = _preview(bulletin, request.GET.get("preview_as", ""))
        context["preview"] = {
            "recipient": recipient,
            "subject": msg["Subject"],
            "from": msg["From"],
            "text": _part(msg, "plain"),
            "url": reverse("console:bulletin_preview", args=[account.code, bulletin.pk])
            + "?"
            + urlencode({"as": recipient}),
        }
        context["autosave_url"] = reverse(
            "console:bulletin_autosave", args=[account.code, bulletin.pk]
        )
    else:
        context["autosave_url"] = reverse("console:bulletin_autosave_new", args=[account.code])
    return render(request, "console/compose.html", context)


@account_view(Membership.AUTHOR)
def confirm_send(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    """Before a bulletin goes: how many it reaches, per topic and by text; then send."""
    bulletin = _writable(request, account, pk)
    if bulletin.status != Bulletin.DRAFT:
        messages.error(request, f"This bulletin is {bulletin.status}: it can't be sent again.")
        return redirect(_detail_url(account, bulletin))
    if request.method == "POST":
        try:
            actions.send_bulletin(bulletin)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(_edit_url(account, bulletin))
        messages.success(request, "The bulletin is on its way.")
        return redirect(_detail_url(account, bulletin))
    per_topic, total = actions.recipient_counts(bulletin)
    texts = text_recipient_count(bulletin)
    context = {
        "account": account,
        "bulletin": bulletin,
        "per_topic": per_topic,
        "total": total,
        "texts": texts,
        "courtesy": len(actions.courtesy_recipients(account)),
    }
    return render(request, "console/confirm_send.html", context)


@require_POST
@account_view(Membership.AUTHOR)
def render_body(request: HttpRequest, account: Account) -> JsonResponse:
    """The body as the email shows it (Markdown or HTML, sanitized), for the live preview."""
    body = request.POST.get("body", "")[:1_000_000]
    if request.POST.get("body_format") == Bulletin.HTML:
        html = sanitize(body)
    else:
        html = markdown_to_html(body)
    return JsonResponse({"html": html})


@require_POST
@account_view(Membership.AUTHOR)
def autosave(request: HttpRequest, account: Account, pk: int | None = None) -> JsonResponse:
    """Save the composer's form as a draft, for the autosave script; answer in JSON."""
    bulletin = _writable(request, account, pk) if pk else None
    if bulletin is not None and bulletin.status != Bulletin.DRAFT:
        return JsonResponse({"error": f"This bulletin is {bulletin.status}."}, status=409)
    topics = allowed_topics(request.membership)  # type: ignore[attr-defined]
    form = BulletinForm(request.POST, account=account, topics=topics)
    if not form.is_valid():
        errors = {name: [str(e) for e in errs] for name, errs in form.errors.items()}
        return JsonResponse(
            {"error": "The draft is not complete yet.", "fields": errors}, status=400
        )
    try:
        bulletin = _save(form, account, bulletin, request.user)
    except ValidationError as error:
        return JsonResponse({"error": " ".join(error.messages)}, status=400)
    now = timezone.now().astimezone(account.tz)
    return JsonResponse(
        {
            "id": bulletin.pk,
            "edit_url": _edit_url(account, bulletin),
            "autosave_url": reverse("console:bulletin_autosave", args=[account.code, bulletin.pk]),
            "saved_at": now.strftime("%I:%M:%S %p"),
        }
    )


@xframe_options_sameorigin
@account_view(Membership.AUTHOR)
def preview(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    """The HTML part of the email, for the composer's sandboxed frame."""
    bulletin = _writable(request, account, pk)
    _, msg = _preview(bulletin, request.GET.get("as", ""))
    response = HttpResponse(_part(msg, "html"), content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = PREVIEW_POLICY
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@account_view(Membership.AUTHOR)
def cancel(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    bulletin = _writable(request, account, pk)
    try:
        actions.cancel_schedule(bulletin)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "The scheduled send is cancelled; the bulletin is a draft again.")
    return redirect(_detail_url(account, bulletin))


@account_view()
def bulletin_list(request: HttpRequest, account: Account) -> HttpResponse:
    membership = request.membership  # type: ignore[attr-defined]
    bulletins = visible_bulletins(membership, Bulletin.objects.filter(account=account))
    totals = {
        row["status"]: row["n"]
        for row in bulletins.values("status").annotate(n=Count("id")).order_by()
    }
    state = request.GET.get("status", "")
    if state not in dict(STATES):
        state = ""
    shown = bulletins.filter(status=state) if state else bulletins
    page = Paginator(shown.prefetch_related("topics").order_by("-created", "-pk"), 50).get_page(
        request.GET.get("page")
    )
    rows = list(page.object_list)
    counts: dict[int, dict[str, int]] = {}
    delivered = (
        Delivery.objects.filter(
            send__bulletin__in=[
                b.pk for b in rows if b.status in (Bulletin.SENDING, Bulletin.SENT)
            ],
            send__kind=Send.BULLETIN,
            send__channel=Send.EMAIL,
        )
        .values_list("send__bulletin", "state")
        .annotate(n=Count("id"))
        .order_by()
    )
    for bulletin_id, delivery_state, n in delivered:
        per = counts.setdefault(bulletin_id, dict.fromkeys([*dict(Delivery.STATES), "total"], 0))
        per[delivery_state] = n
        per["total"] += n
    tabs = [(key, label, totals.get(key, 0)) for key, label in STATES]
    for bulletin in rows:
        bulletin.counts = counts.get(bulletin.pk, {})  # type: ignore[attr-defined]
        bulletin.report_url = report_url(account, bulletin)  # type: ignore[attr-defined]
    return render(
        request,
        "console/bulletins.html",
        {
            "account": account,
            "page": page,
            "bulletins": rows,
            "tabs": tabs,
            "state": state,
            "total": sum(totals.values()),
        },
    )


@account_view()
def bulletin_detail(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    bulletin = _visible(request, account, pk)
    send = bulletin.sends.filter(kind=Send.BULLETIN, channel=Send.EMAIL).order_by("pk").first()
    text_send = bulletin.sends.filter(kind=Send.BULLETIN, channel=Send.TEXT).first()
    membership = request.membership  # type: ignore[attr-defined]
    can_write = (
        membership.has_role(Membership.AUTHOR)
        and not bulletin.topics.exclude(pk__in=allowed_topics(membership).values("pk")).exists()
    )
    return render(
        request,
        "console/bulletin.html",
        {
            "account": account,
            "bulletin": bulletin,
            "topics": list(bulletin.topics.order_by("name")),
            "send": send,
            "counts": send_counts(send) if send else None,
            "text_send": text_send,
            "text_counts": send_counts(text_send) if text_send else None,
            "report_url": report_url(account, bulletin) if send else "",
            "web_copy_url": web_copy_url(bulletin) if bulletin.published_at else "",
            "can_write": can_write,
            "from": "{} <{}>".format(*bulletin.from_name_address()),
        },
    )
