"""Bulletins on the web (the archive app): each web copy, and each topic's archive of them."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from tidings.accounts.access import is_member
from tidings.accounts.models import Account
from tidings.archive import export, topics
from tidings.archive import search as archive_search
from tidings.archive.personal import neutralize_html
from tidings.archive.views import group_by_day, readable_lists
from tidings.bulletins.email import BulletinRenderer
from tidings.bulletins.models import Bulletin
from tidings.lib import pagecache
from tidings.lib.languages import speak_for
from tidings.lib.pagecache import public_page
from tidings.topics.models import Topic

# Only these have a web copy: a draft is nobody's business until it is published.
PUBLISHED = (Bulletin.SENDING, Bulletin.SENT)
RESULTS_PER_PAGE = 10


def published(account: Account) -> QuerySet[Bulletin]:
    return Bulletin.objects.filter(account=account, status__in=PUBLISHED)


def neighbours(bulletin: Bulletin, topic: Topic) -> tuple[Bulletin | None, Bulletin | None]:
    """Return the next newer and the next older bulletin of the topic."""
    siblings = published(bulletin.account).filter(topics=topic).only("pk", "subject")
    when = bulletin.published_at or bulletin.created
    # A range on the date, then ties broken by pk, as the list archive's neighbours().
    newer = siblings.filter(published_at__gte=when).exclude(published_at=when, pk__lte=bulletin.pk)
    older = siblings.filter(published_at__lte=when).exclude(published_at=when, pk__gte=bulletin.pk)
    return (
        newer.order_by("published_at", "pk").first(),
        older.order_by("-published_at", "-pk").first(),
    )


@require_http_methods(["GET", "HEAD"])
@public_page
def web_copy(request: HttpRequest, pk: int) -> HttpResponse:
    bulletin = get_object_or_404(
        Bulletin.objects.select_related("account"), pk=pk, status__in=PUBLISHED
    )
    account = bulletin.account
    pagecache.shows(request, pagecache.account(account.pk))
    speak_for(request, account=account.language)
    its_topics = list(bulletin.topics.order_by("name", "pk"))
    member = any(not t.archive_public for t in its_topics) and is_member(request.user, account)
    # A bulletin is as public as its most public topic; members-only topics stay unnamed.
    visible = [t for t in its_topics if t.archive_public or member]
    if not visible:
        raise Http404("No such bulletin.")
    wanted = request.GET.get("topic", "")
    topic = next((t for t in visible if t.code == wanted), visible[0])
    newer, older = neighbours(bulletin, topic)
    context = {
        "account": account,
        "bulletin": bulletin,
        "topics": visible,
        "topic": topic,
        # The email's body, rendered and sanitized once; none of a recipient's own parts, and
        # no personal link its author pasted (one from their own copy of an earlier one).
        "body_html": neutralize_html(BulletinRenderer(bulletin).body_html),
        "newer": newer,
        "older": older,
        "home": reverse("bulletins:topic", args=[account.code, topic.code]),
    }
    return render(request, "archive/bulletins/web_copy.html", context)


def readable_topic(request: HttpRequest, account_code: str, topic_code: str) -> Topic:
    """Return the topic if this reader may read its archive, else raise Http404."""
    topic = get_object_or_404(
        Topic.objects.select_related("account"), account__code=account_code, code=topic_code
    )
    if not topic.archive_public and not is_member(request.user, topic.account):
        raise Http404("No such archive.")
    pagecache.shows(request, pagecache.account(topic.account_id))
    speak_for(request, account=topic.account.language)
    return topic


def blog_page(
    request: HttpRequest, topic: Topic, bulletins: QuerySet[Bulletin], extra: dict[str, Any]
) -> HttpResponse:
    page = Paginator(bulletins, topics.PER_PAGE).get_page(request.GET.get("page"))
    listed = list(page)
    for bulletin in listed:
        bulletin.excerpt = topics.excerpt(bulletin)  # type: ignore[attr-defined]
        bulletin.url = topics.web_copy_url(bulletin, topic)  # type: ignore[attr-defined]
    account = topic.account
    context = {
        "account": account,
        "topic": topic,
        "page": page,
        # Published bulletins always have published_at.
        "days": group_by_day(listed, account.tz, lambda b: b.published_at),  # type: ignore[arg-type,return-value]
        "tree": topics.month_tree(topic),
        # Absolute, for feed readers' autodiscovery.
        "feed_url": request.build_absolute_uri(
            reverse("bulletins:topic_feed", args=[account.code, topic.code])
        ),
        **extra,
    }
    return render(request, "archive/bulletins/topic.html", context)


@require_http_methods(["GET", "HEAD"])
@public_page
def topic_index(request: HttpRequest, account: str, topic: str) -> HttpResponse:
    the_topic = readable_topic(request, account, topic)
    return blog_page(request, the_topic, topics.topic_bulletins(the_topic), {})


@require_http_methods(["GET", "HEAD"])
@public_page
def topic_month(
    request: HttpRequest, account: str, topic: str, year: int, month: int
) -> HttpResponse:
    the_topic = readable_topic(request, account, topic)
    if not (1 <= month <= 12 and 1970 <= year <= 9999):
        raise Http404("No such month.")
    start, end = topics.month_bounds(the_topic, year, month)
    bulletins = topics.topic_bulletins(the_topic).filter(
        published_at__gte=start, published_at__lt=end
    )
    extra = {"month": date(year, month, 1), "year": year, "month_number": month}
    return blog_page(request, the_topic, bulletins, extra)


@require_http_methods(["GET", "HEAD"])
@public_page
def topic_feed(request: HttpRequest, account: str, topic: str) -> HttpResponse:
    the_topic = readable_topic(request, account, topic)
    bulletins = list(topics.topic_bulletins(the_topic)[: topics.FEED_ENTRIES])
    return export.atom_response(request, topics.topic_feed(request, the_topic, bulletins))


@require_http_methods(["GET", "HEAD"])
@public_page
def account_archive(request: HttpRequest, account: str) -> HttpResponse:
    the_account = get_object_or_404(Account, code=account)
    pagecache.shows(request, pagecache.account(the_account.pk))
    speak_for(request, account=the_account.language)
    member = is_member(request.user, the_account)
    shown = Topic.objects.filter(account=the_account)
    if not member:
        shown = shown.filter(archive_public=True)
    listed = shown.annotate(
        published=Count("bulletins", filter=Q(bulletins__status__in=PUBLISHED))
    ).order_by("name", "pk")
    context = {
        "account": the_account,
        "topics": list(listed),
        "lists": readable_lists(request, the_account.pk),
    }
    return render(request, "archive/bulletins/account.html", context)


def readable_topic_ids(request: HttpRequest, account: Account) -> list[int]:
    topics_ = Topic.objects.filter(account=account)
    if not is_member(request.user, account):
        topics_ = topics_.filter(archive_public=True)
    return list(topics_.values_list("pk", flat=True))


@require_http_methods(["GET", "HEAD"])
def search(request: HttpRequest, account: str) -> HttpResponse:
    """Search the account's lists and topics that this reader may read."""
    the_account = get_object_or_404(Account, code=account)
    speak_for(request, account=the_account.language)
    query = request.GET.get("q", "").strip()
    try:
        number = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        number = 1
    page = None
    if query:
        results = archive_search.search(
            query,
            list_ids=[m.pk for m in readable_lists(request, the_account.pk)],
            topic_ids=readable_topic_ids(request, the_account),
            limit=RESULTS_PER_PAGE,
            offset=(number - 1) * RESULTS_PER_PAGE,
            reveal=request.user.is_authenticated,
        )
        page = archive_search.SearchPage(results, number, RESULTS_PER_PAGE)
    context = {"account": the_account, "query": query, "page": page, "everywhere": True}
    return render(request, "archive/bulletins/search.html", context)
