"""The public archive: a blog of each list's posts, with readers' comments."""

from __future__ import annotations

from datetime import date
from itertools import groupby

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from tidings.archive import actions
from tidings.archive.forms import CommentForm
from tidings.archive.models import Comment, Post
from tidings.lists.models import MailingList

POSTS_PER_PAGE = 10


def public_list(name: str) -> MailingList:
    """Return the list if its archive is public, else raise Http404."""
    return get_object_or_404(MailingList, name=name, archive_public=True)


def group_by_day(posts: list[Post], mailing_list: MailingList) -> list[tuple[date, list[Post]]]:
    """Group posts under the day they were written, in the list's time zone."""
    tz = mailing_list.tz
    return [
        (day, list(group))
        for day, group in groupby(posts, key=lambda p: timezone.localtime(p.date, tz).date())
    ]


@require_http_methods(["GET", "HEAD"])
def index(request: HttpRequest, name: str) -> HttpResponse:
    mailing_list = public_list(name)
    published = Q(comments__status=Comment.PUBLISHED)
    posts = (
        Post.objects.filter(mailing_list=mailing_list)
        .annotate(comment_count=Count("comments", filter=published))
        .order_by("-date", "-pk")
    )
    page = Paginator(posts, POSTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "mailing_list": mailing_list,
        "page": page,
        "days": group_by_day(list(page), mailing_list),
    }
    return render(request, "archive/index.html", context)


def neighbours(post: Post) -> tuple[Post | None, Post | None]:
    """Return the next newer and the next older post on the same list."""
    siblings: QuerySet[Post] = Post.objects.filter(mailing_list_id=post.mailing_list_id).only(
        "slug", "subject"
    )
    newer = siblings.filter(Q(date__gt=post.date) | Q(date=post.date, pk__gt=post.pk))
    older = siblings.filter(Q(date__lt=post.date) | Q(date=post.date, pk__lt=post.pk))
    return newer.order_by("date", "pk").first(), older.order_by("-date", "-pk").first()


@require_http_methods(["GET", "HEAD", "POST"])
def post(request: HttpRequest, name: str, slug: str) -> HttpResponse:
    mailing_list = public_list(name)
    the_post = get_object_or_404(Post, mailing_list=mailing_list, slug=slug)
    the_post.mailing_list = mailing_list
    status = 200

    if request.method == "POST":
        form = CommentForm(request.POST)
        here = reverse("archive:post", args=[name, slug]) + "#comments"
        if form.is_bot():  # pretend all went well, so the bot learns nothing
            return redirect(here)
        if form.is_valid():
            data = form.cleaned_data
            try:
                comment = actions.add_comment(
                    the_post, name=data["name"], email=data["email"], body=data["body"]
                )
            except ValidationError as e:
                form.add_error(None, e)
            else:
                if comment.status == Comment.PUBLISHED:
                    messages.success(request, "Thank you: your comment has been published.")
                else:
                    messages.info(request, "Thank you: your comment is held for review.")
                return redirect(here)
        status = 400
    else:
        form = CommentForm()

    newer, older = neighbours(the_post)
    context = {
        "mailing_list": mailing_list,
        "post": the_post,
        "comments": the_post.comments.filter(status=Comment.PUBLISHED).order_by("created", "pk"),
        "newer": newer,
        "older": older,
        "form": form,
    }
    return render(request, "archive/post.html", context, status=status)
