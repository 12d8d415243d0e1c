"""Console pages: bulletin reports, the recipients CSV, topic growth and tracking settings."""

from __future__ import annotations

from collections.abc import Iterator

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from tidings.accounts.access import account_view, allowed_topics, has_role, visible_bulletins
from tidings.accounts.models import Account, Membership
from tidings.bulletins.models import Bulletin
from tidings.insights import charts, reports
from tidings.insights.forms import TrackingSettingsForm
from tidings.lib.spreadsheet import SafeWriter
from tidings.tracking import actions

PUBLISHED = (Bulletin.SENDING, Bulletin.SENT)


def _published(request: HttpRequest, account: Account) -> QuerySet[Bulletin]:
    """The account's published bulletins this member may see (a limited author: theirs)."""
    bulletins = Bulletin.objects.filter(account=account, status__in=PUBLISHED)
    return visible_bulletins(request.membership, bulletins)  # type: ignore[attr-defined]


def _bulletin(request: HttpRequest, account: Account, pk: int) -> Bulletin:
    # Another tenant's bulletin, or one outside an author's topics, is "not found".
    return get_object_or_404(_published(request, account), pk=pk)


@account_view(Membership.VIEWER)
def index(request: HttpRequest, account: Account) -> HttpResponse:
    bulletins = list(_published(request, account).order_by("-published_at", "-id")[:100])
    rows, averages = reports.rates_for(bulletins)
    topics = allowed_topics(request.membership)  # type: ignore[attr-defined]
    return render(
        request,
        "insights/index.html",
        {
            "account": account,
            "bulletins": bulletins,
            "rows": rows,
            "averages": averages,
            "topics": topics,
            "can_admin": has_role(request, Membership.ADMIN),
        },
    )


@account_view(Membership.VIEWER)
def report(request: HttpRequest, account: Account, bulletin: int) -> HttpResponse:
    found = _bulletin(request, account, bulletin)
    numbers = reports.report_for(found)
    funnel = [
        ("Recipients", numbers.recipients),
        ("Delivered", numbers.delivered),
        ("Opened", numbers.opens),
        ("Clicked", numbers.clicks),
        ("Opened or clicked", numbers.engaged),
    ]
    return render(
        request,
        "insights/report.html",
        {
            "account": account,
            "bulletin": found,
            "report": numbers,
            "funnel_chart": charts.bars("Recipients, delivered, opened, clicked", funnel),
            "links_chart": charts.bars(
                "Unique clicks per link",
                [(f"Link {i}", r.unique) for i, r in enumerate(numbers.links, 1)],
            )
            if numbers.links
            else "",
        },
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


@account_view(Membership.VIEWER)
def recipients_csv(request: HttpRequest, account: Account, bulletin: int) -> StreamingHttpResponse:
    found = _bulletin(request, account, bulletin)
    writer = SafeWriter(_Echo())

    def lines() -> Iterator[str]:
        for row in reports.recipient_rows(found):
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="bulletin-{found.pk}-recipients.csv"'
    return response


@account_view(Membership.VIEWER)
def topic_growth(request: HttpRequest, account: Account, topic: int) -> HttpResponse:
    found = get_object_or_404(allowed_topics(request.membership), pk=topic)  # type: ignore[attr-defined]
    series = reports.subscribers_over_time(found)
    return render(
        request,
        "insights/topic.html",
        {
            "account": account,
            "topic": found,
            "series": list(reversed(series)),
            "chart": charts.line(f"Subscribers of {found.name}, last {len(series)} days", series),
        },
    )


@account_view(Membership.ADMIN)
def tracking_settings(request: HttpRequest, account: Account) -> HttpResponse:
    current = actions.settings_for(account)
    data = request.POST if request.method == "POST" else None
    form = TrackingSettingsForm(data, instance=current)
    if data is not None and form.is_valid():
        actions.save_settings(
            account, opens=form.cleaned_data["opens"], clicks=form.cleaned_data["clicks"]
        )
        messages.success(request, "Tracking settings saved; they apply to the next sends.")
        return redirect("insights:settings", account.code)
    return render(request, "insights/settings.html", {"account": account, "form": form})
