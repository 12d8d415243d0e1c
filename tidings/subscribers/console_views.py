"""Staff pages: subscribers, their details, CSV import and export, suppressions, signup form.

Viewers may look; topic admins and account admins may import, export and suppress. Lists page
by keyset over an index (limit + 1 rows tell whether a next page exists), never by COUNT(*).
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.http import require_POST

from tidings.accounts.access import account_view, has_role
from tidings.accounts.models import Account, Membership
from tidings.lib.languages import for_mail
from tidings.lib.spreadsheet import SafeWriter
from tidings.subscribers import actions, import_jobs, network
from tidings.subscribers.forms import (
    AddSubscriberForm,
    EditSubscriberForm,
    ImportForm,
    SearchForm,
    SuppressionForm,
)
from tidings.subscribers.importer import export_rows
from tidings.subscribers.models import BounceEvent, ImportJob, Subscriber, Suppression
from tidings.topics.models import Topic

MANAGE = Membership.TOPIC_ADMIN
# Sorts after every character an address may hold: "q" <= email < "q" + TOP is "starts with q".
TOP = "\U0010ffff"


def keyset_page(
    rows: QuerySet[Any], prefix: str, after: str, size: int = 0, contains: str = ""
) -> tuple[list[Any], str | None]:
    """Return a page of rows ordered by email, from after (exclusive), and the next cursor."""
    size = size or settings.CONSOLE_PAGE_SIZE
    if prefix:
        # A range on the (account, email) index, not LIKE: it stays an index scan everywhere.
        rows = rows.filter(email__gte=prefix, email__lt=prefix + TOP)
    if contains.startswith("@"):
        rows = rows.filter(email__iendswith=contains)  # a whole domain
    elif contains:
        rows = rows.filter(email__icontains=contains)
    if after:
        rows = rows.filter(email__gt=after)
    page = list(rows.order_by("email")[: size + 1])
    if len(page) > size:
        return page[:size], page[size - 1].email
    return page, None


@account_view()
def subscriber_list(request: HttpRequest, account: Account) -> HttpResponse:
    form = SearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    after = form.cleaned_data["after"] if form.is_valid() else ""
    rows = Subscriber.objects.filter(account=account).only(
        "email", "status", "delivery_mode", "created"
    )
    page, next_after = keyset_page(rows, "", after, contains=query)
    add_form = AddSubscriberForm(account, request.POST or None)
    if request.method == "POST":
        if not has_role(request, MANAGE):
            raise Http404
        if add_form.is_valid():
            email, topics = add_form.cleaned_data["email"], list(add_form.cleaned_data["topics"])
            try:
                if add_form.cleaned_data["confirmed"]:
                    added = actions.subscribe(account, email, topics, confirmed=True)
                    messages.success(request, f"{added.email} is subscribed.")
                else:
                    done = actions.request_subscription(account, email, topics)
                    messages.success(request, f"{email}: {done}.")
            except ValidationError as error:
                add_form.add_error("email", error)
            else:
                return redirect("subscribers_console:list", account.code)
    context = {
        "account": account,
        "form": form,
        "add_form": add_form,
        "subscribers": page,
        "q": query,
        "after": after,
        "next_after": next_after,
        "can_manage": has_role(request, MANAGE),
    }
    return render(request, "subscribers/console/list.html", context)


@account_view()
def subscriber_detail(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    subscriber = get_object_or_404(Subscriber, pk=pk, account=account)
    topics = list(Topic.objects.filter(subscriptions__subscriber=subscriber).order_by("name", "pk"))
    initial = {
        "topics": topics,
        "delivery_mode": subscriber.delivery_mode,
        "language": subscriber.language,
        "status": subscriber.status
        if subscriber.status == Subscriber.UNSUBSCRIBED
        else Subscriber.CONFIRMED,
    }
    edit_form = EditSubscriberForm(account, request.POST or None, initial=initial)
    if request.method == "POST":
        if not has_role(request, MANAGE):
            raise Http404
        if edit_form.is_valid():
            data = edit_form.cleaned_data
            if data["status"] == Subscriber.UNSUBSCRIBED:
                actions.unsubscribe_all(subscriber)
            else:
                actions.set_topics(subscriber, list(data["topics"]))
                if subscriber.status != Subscriber.CONFIRMED:
                    Subscriber.objects.filter(pk=subscriber.pk).update(
                        status=Subscriber.CONFIRMED, confirmed_at=timezone.now()
                    )
                actions.set_delivery_mode(subscriber, data["delivery_mode"])
            actions.set_language(subscriber, data["language"])
            messages.success(request, f"{subscriber.email} is saved.")
            return redirect("subscribers_console:detail", account.code, subscriber.pk)
    bounces = list(
        BounceEvent.objects.filter(account=account, email=subscriber.email).order_by("-created")[
            :100
        ]
    )
    suppressions = list(
        Suppression.objects.filter(actions.suppressed_filter(account), email=subscriber.email)
    )
    context = {
        "account": account,
        "subscriber": subscriber,
        "topics": topics,
        "bounces": bounces,
        "suppressions": suppressions,
        "history": history(subscriber, bounces, suppressions),
        "can_manage": has_role(request, MANAGE),
        "edit_form": edit_form,
    }
    return render(request, "subscribers/console/detail.html", context)


def history(
    subscriber: Subscriber, bounces: list[BounceEvent], suppressions: list[Suppression]
) -> list[tuple[Any, str]]:
    """Return (when, what) for what is known of the address, newest first."""
    events: list[tuple[Any, str]] = [(subscriber.created, "Added")]
    if subscriber.confirm_sent_at:
        events.append((subscriber.confirm_sent_at, "Confirmation link mailed"))
    if subscriber.confirmed_at:
        events.append((subscriber.confirmed_at, "Confirmed"))
    for b in bounces:
        text = f"{b.get_kind_display()} {b.status}".strip()
        events.append((b.created, f"{text}: {b.get_decision_display()} ({b.reason})"))
    for s in suppressions:
        scope = "every account" if s.account_id is None else "this account"
        events.append((s.created, f"Suppressed for {scope}: {s.get_reason_display()}"))
    return sorted(events, key=lambda e: e[0], reverse=True)


# --- import and export ------------------------------------------------------------------------


@account_view(MANAGE)
def import_list(request: HttpRequest, account: Account) -> HttpResponse:
    if request.method == "POST":
        form = ImportForm(account, request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = import_jobs.queue_import(
                    account,
                    request.user,  # type: ignore[arg-type]
                    upload,
                    upload.name,
                    upload.size,
                    list(form.cleaned_data["topics"]),
                    confirmed=form.cleaned_data["mode"] == ImportForm.CONFIRMED,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return redirect("subscribers_console:import_job", account.code, job.pk)
    else:
        form = ImportForm(account)
    jobs = ImportJob.objects.filter(account=account).order_by("-created")[:20]
    context = {"account": account, "form": form, "jobs": jobs}
    return render(request, "subscribers/console/imports.html", context)


@account_view(MANAGE)
def import_job(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    job = get_object_or_404(ImportJob, pk=pk, account=account)
    context = {
        "account": account,
        "job": job,
        "topics": list(job.topics.order_by("name")),
        "running": job.state in (ImportJob.QUEUED, ImportJob.RUNNING),
        "errors": first_errors(job),
    }
    return render(request, "subscribers/console/import_job.html", context)


SHOWN_ERRORS = 100


def first_errors(job: ImportJob) -> list[list[str]]:
    """The first rows of an import's error report (line, value, error), to show on its page."""
    path = import_jobs.errors_path(job)
    if job.state != ImportJob.DONE or not job.error_count or not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as report:
        rows = csv.reader(report)
        next(rows, None)  # the header
        return [row[:3] for row in itertools.islice(rows, SHOWN_ERRORS)]


@account_view(MANAGE)
def import_errors(request: HttpRequest, account: Account, pk: int) -> FileResponse:
    job = get_object_or_404(ImportJob, pk=pk, account=account, state=ImportJob.DONE)
    path = import_jobs.errors_path(job)
    if not job.error_count or not path.exists():
        raise Http404("This import has no error report.")
    name = f"{account.code}-import-{job.pk}-errors.csv"
    return FileResponse(path.open("rb"), as_attachment=True, filename=name)


class Echo:
    """A file-like object whose write returns the line, for streaming CSV."""

    def write(self, value: str) -> str:
        return value


@account_view(MANAGE)
def export(request: HttpRequest, account: Account) -> StreamingHttpResponse:
    topics = list(Topic.objects.filter(account=account, code__in=request.GET.getlist("topic")))
    writer = SafeWriter(Echo())

    def lines() -> Iterator[str]:
        for row in export_rows(account, topics=topics):
            yield writer.writerow(row)

    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{account.code}-subscribers-{stamp}.csv"'
    )
    return response


# --- suppressions -----------------------------------------------------------------------------


@account_view()
def suppression_list(request: HttpRequest, account: Account) -> HttpResponse:
    form = SearchForm(request.GET)
    prefix = form.cleaned_data["q"] if form.is_valid() else ""
    after = form.cleaned_data["after"] if form.is_valid() else ""
    own, next_after = keyset_page(Suppression.objects.filter(account=account), prefix, after)
    # The global list is shared by every account: show only the rows about this account's own
    # subscribers, or it would tell one agency the addresses of another's.
    ours = Subscriber.objects.filter(account=account).values("email")
    global_rows, _ = keyset_page(
        Suppression.objects.filter(account__isnull=True, email__in=ours), prefix, ""
    )
    can_manage = has_role(request, MANAGE)
    context = {
        "account": account,
        "form": form,
        "suppressions": own,
        "global_suppressions": global_rows,
        "q": prefix,
        "after": after,
        "next_after": next_after,
        "can_manage": can_manage,
        "add_form": SuppressionForm() if can_manage else None,
    }
    return render(request, "subscribers/console/suppressions.html", context)


@require_POST
@account_view(MANAGE)
def suppression_add(request: HttpRequest, account: Account) -> HttpResponse:
    form = SuppressionForm(request.POST)
    if form.is_valid():
        try:
            actions.suppress(account, form.cleaned_data["email"], note=form.cleaned_data["note"])
        except ValidationError as exc:
            form.add_error("email", exc)
    if not form.is_valid():
        context = {
            "account": account,
            "form": SearchForm(),
            "suppressions": [],
            "global_suppressions": [],
            "can_manage": True,
            "add_form": form,
        }
        return render(request, "subscribers/console/suppressions.html", context, status=400)
    messages.success(request, f"{form.cleaned_data['email']} will receive no more mail.")
    return redirect("subscribers_console:suppressions", account.code)


@require_POST
@account_view(MANAGE)
def suppression_remove(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    # Only this account's own rows: global hard bounces are not any one agency's to lift.
    suppression = get_object_or_404(Suppression, pk=pk, account=account)
    actions.unsuppress(suppression)
    messages.success(request, f"{suppression.email} may receive mail again.")
    return redirect("subscribers_console:suppressions", account.code)


@require_POST
@account_view(MANAGE)
def distribution_list(request: HttpRequest, account: Account, pk: int) -> HttpResponse:
    """Mark an address as shared (a distribution list) or as one person's again."""
    subscriber = get_object_or_404(Subscriber, pk=pk, account=account)
    shared = request.POST.get("distribution_list") == "on"
    actions.mark_distribution_list(subscriber, shared)
    what = "a distribution list" if shared else "one person's address"
    messages.success(request, f"{subscriber.email} is now marked as {what}.")
    return redirect("subscribers_console:detail", account.code, subscriber.pk)


# --- embeddable form --------------------------------------------------------------------------


@account_view()
def embed(request: HttpRequest, account: Account) -> HttpResponse:
    if request.method == "POST":
        if not has_role(request, Membership.ADMIN):
            raise Http404
        actions.set_welcome_text(account, request.POST.get("welcome_text", "")[:5000])
        messages.success(request, "The welcome email's text is saved.")
        return redirect("subscribers_console:embed", account.code)
    topics = list(Topic.objects.filter(account=account, listed=True).order_by("name", "pk"))
    action = settings.BASE_URL + reverse("subscribers:embed", args=[account.code])
    with translation.override(for_mail(account.language)):  # the agency's pages' language
        snippet = render_to_string(
            "subscribers/embed_snippet.html",
            {"account": account, "topics": topics, "action": action},
        )
    opt_in = actions.settings_for(account).double_opt_in
    context = {
        "account": account,
        "snippet": snippet.strip(),
        "topics": topics,
        "opt_in": opt_in,
        "welcome_text": actions.settings_for(account).welcome_text,
        "can_edit": has_role(request, Membership.ADMIN),
    }
    return render(request, "subscribers/console/embed.html", context)


# --- the network -------------------------------------------------------------------------------


@account_view()
def network_page(request: HttpRequest, account: Account) -> HttpResponse:
    """Whether the account recommends and is recommended, and who came through the network."""
    if request.method == "POST":
        if not has_role(request, Membership.ADMIN):
            raise Http404
        actions.set_network(account, request.POST.get("network") == "on")
        messages.success(request, "Saved.")
        return redirect("subscribers_console:network", account.code)
    members = actions.settings_for(account).network
    context = {
        "account": account,
        "member": members,
        "counts": network.counts(account),
        "can_edit": has_role(request, Membership.ADMIN),
    }
    return render(request, "subscribers/console/network.html", context)
