"""Console pages of the archive: the comments a list holds for review."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from tidings.accounts.access import account_for, has_role
from tidings.accounts.models import Membership
from tidings.archive import actions
from tidings.archive.models import Comment
from tidings.lib.web import posted_id
from tidings.lists.models import MailingList

# Approving and rejecting comments is for topic admins and admins; viewers may look.
MANAGE = Membership.TOPIC_ADMIN


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def comments(request: HttpRequest, account: str, name: str) -> HttpResponse:
    role = MANAGE if request.method == "POST" else Membership.VIEWER
    owner = account_for(request, account, role)
    mailing_list = get_object_or_404(MailingList, account=owner, name=name)
    if request.method == "POST":
        comment = get_object_or_404(
            Comment, pk=posted_id(request.POST.get("comment")), post__mailing_list=mailing_list
        )
        if request.POST.get("action") == "approve":
            actions.approve_comment(comment)
            messages.success(request, f"Published the comment by {comment.name}.")
        elif request.POST.get("action") == "reject":
            actions.reject_comment(comment)
            messages.info(request, f"Rejected the comment by {comment.name}.")
        return redirect("archive_console:comments", owner.code, mailing_list.name)
    held = (
        Comment.objects.filter(post__mailing_list=mailing_list, status=Comment.HELD)
        .select_related("post")
        .order_by("created", "pk")
    )
    context = {
        "mailing_list": mailing_list,
        "held": list(held),
        "can_manage": has_role(request, MANAGE),
    }
    return render(request, "archive/console/comments.html", context)
