"""The archive: a blog of each list's posts, threads, search, feeds, exports and comments."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, tzinfo
from itertools import groupby
from typing import Any, TypeVar

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from tidings.accounts import access
from tidings.accounts.access import can_read_list_archive
from tidings.archive import actions, export
from tidings.archive.forms import CommentForm
from tidings.archive.models import Attachment, Comment, Month, Post
from tidings.archive.personal import neutralize_attachment
from tidings.archive.render import plain
from tidings.archive.search import SearchPage, search_posts
from tidings.lib import pagecache
from tidings.lib.languages import speak_for
from tidings.lib.pagecache import public_page
from tidings.lib.tokens import BadToken, read_token
from tidings.lib.web import client_ip
from tidings.lists.models import MailingList

T = TypeVar("T")
POSTS_PER_PAGE = 10
RESULTS_PER_PAGE = 10
# Unsubscribe links in comment notices stay valid for a year.
UNSUBSCRIBE_MAX_AGE = 365 * 86400
# Columns the index and month pages never show: keep them out of the query.
HEAVY = ("raw", "body_html", "rendered", "references")


def readable_list(request: HttpRequest, name: str) -> MailingList:
    """Return the list if this reader may read its archive, else raise Http404."""
    mailing_list = get_object_or_404(MailingList.objects.select_related("account__logo"), name=name)
    if not can_read_list_archive(request.user, mailing_list):
        raise Http404("No such archive.")
    pagecache.shows(
        request, pagecache.mailing_list(mailing_list.pk), pagecache.account(mailing_list.account_id)
    )
    speak_for(request, account=mailing_list.language)
    return mailing_list


def reveals(request: HttpRequest) -> bool:
    """Say whether the reader may see email addresses (anyone logged in)."""
    return bool(request.user.is_authenticated)


def group_by_day(
    items: list[T], tz: tzinfo, when: Callable[[T], datetime]
) -> list[tuple[date, list[T]]]:
    """Group items (newest first) under the day of `when(item)` in the time zone tz."""
    return [
        (day, list(group))
        for day, group in groupby(items, key=lambda item: timezone.localtime(when(item), tz).date())
    ]


def add_comment_counts(posts: list[Post]) -> None:
    """Set comment_count on each post with one query."""
    counts = dict(
        Comment.objects.filter(post__in=posts, status=Comment.PUBLISHED)
        .values_list("post")
        .annotate(n=Count("id"))
        .order_by()
    )
    for post in posts:
        post.comment_count = counts.get(post.pk, 0)  # type: ignore[attr-defined]


def month_tree(mailing_list: MailingList) -> list[tuple[int, int, list[Month]]]:
    """Return (year, posts that year, months newest first) for the archive's sidebar."""
    months = list(Month.objects.filter(mailing_list=mailing_list).order_by("-year", "-month"))
    for m in months:
        m.url = reverse("archive:month", args=[mailing_list.name, m.year, m.month])  # type: ignore[attr-defined]
    return [
        (year, sum(m.count for m in group_list), group_list)
        for year, group in groupby(months, key=lambda m: m.year)
        for group_list in [list(group)]
    ]


class CountedPaginator(Paginator):
    """A paginator told its count, so the page never runs COUNT(*) over a big list."""

    def __init__(self, object_list: Any, per_page: int, count: int | None) -> None:
        super().__init__(object_list, per_page)
        if count is not None:
            self.__dict__["count"] = count  # Paginator.count is a cached_property


def blog_page(
    request: HttpRequest,
    mailing_list: MailingList,
    posts: QuerySet[Post],
    extra: dict[str, Any],
    month_count: Any = None,
) -> HttpResponse:
    tree = month_tree(mailing_list)
    # The year → month tree already counts the posts: the whole list's, or one month's.
    count = sum(total for _, total, _ in tree) if month_count is None else month_count(tree)
    # Page through ids alone (a walk of the covering index), then fetch only this page's posts:
    # a deep page of a big list skips thousands of index entries, never thousands of rows.
    ids = posts.values_list("pk", flat=True)
    page = CountedPaginator(ids, POSTS_PER_PAGE, count).get_page(request.GET.get("page"))
    found = Post.objects.defer(*HEAVY).in_bulk(list(page.object_list))
    listed = [found[pk] for pk in page.object_list if pk in found]
    for post in listed:
        post.mailing_list = mailing_list
    add_comment_counts(listed)
    context = {
        "mailing_list": mailing_list,
        "page": page,
        "days": group_by_day(listed, mailing_list.tz, lambda p: p.date),
        "tree": tree,
        "reveal": reveals(request),
        # Absolute, for feed readers' autodiscovery.
        "feed_url": request.build_absolute_uri(reverse("archive:feed", args=[mailing_list.name])),
        **extra,
    }
    return render(request, "archive/index.html", context)


@require_http_methods(["GET", "HEAD"])
@public_page
def index(request: HttpRequest, name: str) -> HttpResponse:
    mailing_list = readable_list(request, name)
    posts = Post.objects.filter(mailing_list=mailing_list).order_by("-date", "-pk")
    return blog_page(request, mailing_list, posts, {})


@require_http_methods(["GET", "HEAD"])
@public_page
def month(request: HttpRequest, name: str, year: int, month: int) -> HttpResponse:
    mailing_list = readable_list(request, name)
    if not (1 <= month <= 12 and 1970 <= year <= 9999):
        raise Http404("No such month.")
    start, end = actions.month_bounds(mailing_list, year, month)
    posts = Post.objects.filter(mailing_list=mailing_list, date__gte=start, date__lt=end)

    def month_count(tree: list[tuple[int, int, list[Month]]]) -> int:
        found = [
            m.count for _, _, months in tree for m in months if (m.year, m.month) == (year, month)
        ]
        return found[0] if found else 0

    return blog_page(
        request,
        mailing_list,
        posts.order_by("-date", "-pk"),
        {"month": date(year, month, 1), "year": year, "month_number": month},
        month_count,
    )


@require_http_methods(["GET", "HEAD"])
@public_page
def year(request: HttpRequest, name: str, year: int) -> HttpResponse:
    """One year of a list's archive, newest first (the tree's year heading links here)."""
    mailing_list = readable_list(request, name)
    if not 1970 <= year <= 9999:
        raise Http404("No such year.")
    start, _ = actions.month_bounds(mailing_list, year, 1)
    _, end = actions.month_bounds(mailing_list, year, 12)
    posts = Post.objects.filter(mailing_list=mailing_list, date__gte=start, date__lt=end)

    def year_count(tree: list[tuple[int, int, list[Month]]]) -> int:
        return sum(total for tree_year, total, _ in tree if tree_year == year)

    return blog_page(
        request,
        mailing_list,
        posts.order_by("-date", "-pk"),
        {"year": year, "year_page": True},
        year_count,
    )


def neighbours(post: Post) -> tuple[Post | None, Post | None]:
    """Return the next newer and the next older post on the same list."""
    siblings: QuerySet[Post] = Post.objects.filter(mailing_list_id=post.mailing_list_id).only(
        "slug", "subject"
    )
    # A range on the date (which the index serves), then ties broken by pk; an OR of the two
    # would make the database scan the whole list.
    newer = siblings.filter(date__gte=post.date).exclude(date=post.date, pk__lte=post.pk)
    older = siblings.filter(date__lte=post.date).exclude(date=post.date, pk__gte=post.pk)
    return newer.order_by("date", "pk").first(), older.order_by("-date", "-pk").first()


def comment_tree(comments: list[Comment]) -> list[tuple[Comment, int]]:
    """Return comments in reading order, each reply after its parent, with its depth."""
    children: dict[int | None, list[Comment]] = {}
    for comment in comments:
        children.setdefault(comment.parent_id, []).append(comment)
    ordered: list[tuple[Comment, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for comment in children.get(parent, []):
            ordered.append((comment, depth))
            walk(comment.pk, min(depth + 1, 4))

    walk(None, 0)
    return ordered


def comment_from_form(
    request: HttpRequest, the_post: Post, form: CommentForm
) -> tuple[Comment | None, str]:
    """Add the comment the form describes; return it, or None and the reason it was refused."""
    data = form.cleaned_data
    parent = None
    if data.get("parent"):
        parent = Comment.objects.filter(pk=data["parent"], post=the_post).first()
    try:
        comment = actions.add_comment(
            the_post,
            name=data["name"],
            email=data["email"],
            body=data["body"],
            parent=parent,
            notify=bool(data.get("notify")),
            ip=client_ip(request),
        )
    except actions.RateLimited as e:
        return None, str(e)
    except ValidationError as e:
        form.add_error(None, e)
        return None, ""
    return comment, ""


@require_http_methods(["GET", "HEAD", "POST"])
@public_page
def post(request: HttpRequest, name: str, slug: str) -> HttpResponse:
    mailing_list = readable_list(request, name)
    the_post = get_object_or_404(
        Post.objects.defer("raw").select_related(None), mailing_list=mailing_list, slug=slug
    )
    the_post.mailing_list = mailing_list
    status = 200

    if request.method == "POST":
        form = CommentForm(request.POST)
        here = reverse("archive:post", args=[name, slug]) + "#comments"
        if form.is_bot():  # pretend all went well, so the bot learns nothing
            return redirect(here)
        if form.is_valid():
            comment, refusal = comment_from_form(request, the_post, form)
            if comment is not None:
                if comment.status == Comment.PUBLISHED:
                    messages.success(request, _("Thank you: your comment has been published."))
                else:
                    messages.info(request, _("Thank you: your comment is held for review."))
                return redirect(here)
            if refusal:
                form.add_error(None, refusal)
                status = 429
        if status == 200:
            status = 400
    else:
        form = CommentForm(initial={"parent": request.GET.get("reply", "")})

    newer, older = neighbours(the_post)
    comments = list(
        the_post.comments.filter(status=Comment.PUBLISHED).order_by("created", "pk").defer("email")
    )
    replying_to = next((c for c in comments if str(c.pk) == str(form["parent"].value())), None)
    context = {
        "mailing_list": mailing_list,
        "post": the_post,
        "comments": comment_tree(comments),
        "comment_count": len(comments),
        "attachments": list(the_post.attachments.defer("data").order_by("position")),
        "thread_size": Post.objects.filter(thread_id=the_post.thread_id).count(),
        "newer": newer,
        "older": older,
        "form": form,
        "replying_to": replying_to,
        "reveal": reveals(request),
        "first_time_held": mailing_list.comment_moderation == actions.FIRST_TIME,
        "feed_url": request.build_absolute_uri(
            reverse("archive:comments_feed", args=[mailing_list.name, the_post.slug])
        ),
    }
    return render(request, "archive/post.html", context, status=status)


def thread_posts(mailing_list: MailingList, slug: str) -> tuple[Post, list[Post]]:
    """Return the thread's first post and all its posts, oldest first."""
    root = get_object_or_404(Post.objects.only("thread_id"), mailing_list=mailing_list, slug=slug)
    posts = list(
        Post.objects.filter(mailing_list=mailing_list, thread_id=root.thread_id)
        .defer("raw")
        .order_by("date", "pk")
    )
    return posts[0], posts


def thread_tree(posts: list[Post]) -> list[tuple[Post, int]]:
    """Return posts in thread order (each reply after what it answers) with their depth."""
    by_id = {p.message_id: p for p in posts if p.message_id}
    children: dict[int | None, list[Post]] = {}
    for p in posts:
        parent = by_id.get(p.in_reply_to)
        if parent is None:
            for ref in reversed(p.references.split()):
                if ref in by_id:
                    parent = by_id[ref]
                    break
        parent_pk = parent.pk if parent is not None and parent.pk != p.pk else None
        if parent_pk is None and p is not posts[0]:
            parent_pk = posts[0].pk  # subject fallback: a reply to the first post
        children.setdefault(parent_pk, []).append(p)
    ordered: list[tuple[Post, int]] = []
    seen: set[int] = set()

    def walk(parent: int | None, depth: int) -> None:
        for child in children.get(parent, []):
            if child.pk in seen:
                continue
            seen.add(child.pk)
            ordered.append((child, depth))
            walk(child.pk, min(depth + 1, 6))

    walk(None, 0)
    ordered += [(p, 1) for p in posts if p.pk not in seen]
    return ordered


@require_http_methods(["GET", "HEAD"])
@public_page
def thread(request: HttpRequest, name: str, slug: str) -> HttpResponse:
    mailing_list = readable_list(request, name)
    first, posts = thread_posts(mailing_list, slug)
    for p in posts:
        p.mailing_list = mailing_list
    context = {
        "mailing_list": mailing_list,
        "first": first,
        "posts": thread_tree(posts),
        "reveal": reveals(request),
    }
    return render(request, "archive/thread.html", context)


@require_http_methods(["GET", "HEAD"])
def attachment(request: HttpRequest, name: str, slug: str, position: int) -> HttpResponse:
    mailing_list = readable_list(request, name)
    found = get_object_or_404(
        Attachment, post__mailing_list=mailing_list, post__slug=slug, position=position
    )
    # Never rendered by the browser: always a download, never sniffed into HTML. A forwarded
    # bulletin or a text file may hold someone's personal links: neutralized like the pages.
    data = neutralize_attachment(found.content_type, bytes(found.data))
    response = HttpResponse(data, content_type="application/octet-stream")
    # Its name too, as the post's page shows it.
    filename = plain(found.filename, reveal=reveals(request))
    response["Content-Disposition"] = content_disposition_header(True, filename) or ""
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def readable_lists(request: HttpRequest, account_id: int) -> list[MailingList]:
    """Return the account's lists whose archives this reader may read, in one query."""
    lists = MailingList.objects.filter(account_id=account_id).order_by("name")
    return list(access.readable_lists(request.user, lists))


def searchable_lists(request: HttpRequest, mailing_list: MailingList, everywhere: bool) -> list:
    """Return the ids of the lists to search: this one, or all the account's readable lists."""
    if not everywhere or mailing_list.account_id is None:
        return [mailing_list.pk]
    return [m.pk for m in readable_lists(request, mailing_list.account_id)]


@require_http_methods(["GET", "HEAD"])
def search(request: HttpRequest, name: str) -> HttpResponse:
    mailing_list = readable_list(request, name)
    query = request.GET.get("q", "").strip()
    everywhere = request.GET.get("all") == "1"
    try:
        number = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        number = 1
    page = None
    if query:
        results = search_posts(
            searchable_lists(request, mailing_list, everywhere),
            query,
            limit=RESULTS_PER_PAGE,
            offset=(number - 1) * RESULTS_PER_PAGE,
            reveal=reveals(request),
        )
        page = SearchPage(results, number, RESULTS_PER_PAGE)
    context = {
        "mailing_list": mailing_list,
        "query": query,
        "everywhere": everywhere,
        "page": page,
    }
    return render(request, "archive/search.html", context)


@require_http_methods(["GET", "HEAD"])
@public_page
def feed(request: HttpRequest, name: str) -> HttpResponse:
    mailing_list = readable_list(request, name)
    posts = list(
        Post.objects.filter(mailing_list=mailing_list)
        .defer("raw", "references")
        .order_by("-date", "-pk")[:20]
    )
    return export.atom_response(request, export.list_feed(request, mailing_list, posts))


@require_http_methods(["GET", "HEAD"])
@public_page
def comments_feed(request: HttpRequest, name: str, slug: str) -> HttpResponse:
    mailing_list = readable_list(request, name)
    the_post = get_object_or_404(Post.objects.defer(*HEAVY), mailing_list=mailing_list, slug=slug)
    the_post.mailing_list = mailing_list
    comments = list(
        the_post.comments.filter(status=Comment.PUBLISHED).order_by("-created", "-pk")[:50]
    )
    return export.atom_response(request, export.comments_feed(request, the_post, comments))


@require_http_methods(["GET", "HEAD"])
def month_mbox(
    request: HttpRequest, name: str, year: int, month: int
) -> HttpResponse | StreamingHttpResponse:
    mailing_list = readable_list(request, name)
    if not (1 <= month <= 12 and 1970 <= year <= 9999):
        raise Http404("No such month.")
    start, end = actions.month_bounds(mailing_list, year, month)
    posts = Post.objects.filter(mailing_list=mailing_list, date__gte=start, date__lt=end)
    filename = f"{mailing_list.name}-{year}-{month:02d}.mbox"
    return export.mbox_response(posts.order_by("date", "pk"), filename, reveal=reveals(request))


@require_http_methods(["GET", "HEAD"])
def post_mbox(request: HttpRequest, name: str, slug: str) -> HttpResponse | StreamingHttpResponse:
    """One post as it was received (an mbox of one message), for a post too large to show."""
    mailing_list = readable_list(request, name)
    posts = Post.objects.filter(mailing_list=mailing_list, slug=slug)
    if not posts.exists():
        raise Http404("No such post.")
    filename = f"{mailing_list.name}-{slug[:12]}.mbox"
    return export.mbox_response(posts, filename, reveal=reveals(request))


def thread_mbox(request: HttpRequest, name: str, slug: str) -> HttpResponse | StreamingHttpResponse:
    mailing_list = readable_list(request, name)
    root = get_object_or_404(Post.objects.only("thread_id"), mailing_list=mailing_list, slug=slug)
    posts = Post.objects.filter(mailing_list=mailing_list, thread_id=root.thread_id)
    filename = f"{mailing_list.name}-thread-{slug[:12]}.mbox"
    return export.mbox_response(posts.order_by("date", "pk"), filename, reveal=reveals(request))


@csrf_exempt  # the signed token is the authority; mail clients POST it (RFC 8058)
@require_http_methods(["GET", "HEAD", "POST"])
def comment_unsubscribe(request: HttpRequest, name: str, slug: str) -> HttpResponse:
    mailing_list = get_object_or_404(MailingList.objects.select_related("account"), name=name)
    speak_for(request, account=mailing_list.language)
    the_post = get_object_or_404(Post, mailing_list=mailing_list, slug=slug)
    try:
        value = read_token(
            actions.UNSUBSCRIBE_PURPOSE, request.GET.get("t", ""), UNSUBSCRIBE_MAX_AGE
        )
    except BadToken as e:
        return render(request, "archive/unsubscribed.html", {"error": str(e)}, status=400)
    if not (isinstance(value, list) and len(value) == 2 and value[0] == the_post.pk):
        return render(
            request,
            "archive/unsubscribed.html",
            {"error": _("This link is not valid.")},
            status=400,
        )
    if request.method == "POST":  # one-click (RFC 8058) or the button below
        actions.stop_notifications(the_post, str(value[1]))
        return render(request, "archive/unsubscribed.html", {"done": True, "post": the_post})
    return render(request, "archive/unsubscribed.html", {"post": the_post, "confirm": True})
