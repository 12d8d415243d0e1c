"""The public pages of a list: join, leave, confirm, one-click unsubscribe.

The answers never say whether an address is a member: joining and leaving both end on the same
"check your mail" page, whatever the address.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from tidings.accounts.access import can_see_roster
from tidings.lib import pagecache
from tidings.lib.languages import speak_for
from tidings.lib.pagecache import public_page
from tidings.lib.tokens import BadToken, ExpiredToken
from tidings.lib.web import client_network
from tidings.lists import membership
from tidings.lists.forms import JoinForm, LeaveForm
from tidings.lists.members import members_page
from tidings.lists.models import MailingList, Member
from tidings.subscribers.actions import allow

TEXT = "text/plain; charset=utf-8"


def list_named(request: HttpRequest, name: str) -> MailingList:
    """The list of a public page (404 if none), the page in its reader's language."""
    mailing_list = get_object_or_404(MailingList.objects.select_related("account"), name=name)
    pagecache.shows(
        request, pagecache.mailing_list(mailing_list.pk), pagecache.account(mailing_list.account_id)
    )
    speak_for(request, account=mailing_list.language)
    return mailing_list


def throttled(request: HttpRequest, mailing_list: MailingList) -> HttpResponse | None:
    """Answer 429 to a network past its hourly limit of join and leave requests (which each
    send a confirmation mail); None while it is within it."""
    limit = settings.SUBSCRIBE_RATE_PER_IP
    if allow(f"list-net:{client_network(request)}", limit, 3600):
        return None
    context = {"mailing_list": mailing_list, "limit": limit}
    return render(request, "lists/throttled.html", context, status=429)


@require_http_methods(["GET", "HEAD", "POST"])
@public_page
def join(request: HttpRequest, name: str) -> HttpResponse:
    mailing_list = list_named(request, name)
    if request.method == "POST" and (refused := throttled(request, mailing_list)):
        return refused
    form = JoinForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not form.is_bot():
            email = form.cleaned_data["email"]
            mode = form.cleaned_data["delivery_mode"] or Member.EACH
            membership.request_join(mailing_list, email, mode, request.LANGUAGE_CODE)
        return render(request, "lists/check_mail.html", {"mailing_list": mailing_list})
    status = 400 if request.method == "POST" else 200
    posting = POSTING_WORDS.get(mailing_list.posting_policy, "")
    context = {"mailing_list": mailing_list, "form": form, "posting": posting}
    return render(request, "lists/join.html", context, status=status)


# Who may post, in the words a reader of the list page and the join page needs.
POSTING_WORDS = {
    MailingList.ANNOUNCE: gettext_lazy(
        "This is an announcement list: only its publishers post, and members "
        "receive what they send. Mail from anyone else is held and not sent on."
    ),
    MailingList.MODERATED: gettext_lazy(
        "Members may write to the list; a moderator reads every post before it goes out."
    ),
    MailingList.MEMBERS: gettext_lazy(
        "Members write to the list and everyone gets their posts; posts from "
        "others are held for a moderator."
    ),
    MailingList.OPEN_POSTING: gettext_lazy(
        "Anyone may write to the list; every member gets the posts."
    ),
}


@require_http_methods(["GET", "HEAD"])
def about(request: HttpRequest, name: str) -> HttpResponse:
    """The list's public page: what it is, who may post, who runs it, its archive, Join."""
    mailing_list = list_named(request, name)
    context = {
        "mailing_list": mailing_list,
        "posting": POSTING_WORDS.get(mailing_list.posting_policy, ""),
        "owner": mailing_list.command_address("owner"),
        "archive": mailing_list.archive_visibility != MailingList.ARCHIVE_OFF,
    }
    return render(request, "lists/about.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
def leave(request: HttpRequest, name: str) -> HttpResponse:
    mailing_list = list_named(request, name)
    if request.method == "POST" and (refused := throttled(request, mailing_list)):
        return refused
    form = LeaveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not form.is_bot():
            membership.request_leave(mailing_list, form.cleaned_data["email"])
        return render(request, "lists/check_mail.html", {"mailing_list": mailing_list})
    status = 400 if request.method == "POST" else 200
    context = {"mailing_list": mailing_list, "form": form}
    return render(request, "lists/leave.html", context, status=status)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request: HttpRequest, name: str, token: str) -> HttpResponse:
    mailing_list = list_named(request, name)
    try:
        pending = membership.read_request(mailing_list, token)
        speak_for(request, own=pending.language, account=mailing_list.language)
        # Mail scanners open links, so the page only offers a button; the POST confirms.
        if request.method != "POST":
            page = {"mailing_list": mailing_list, "pending": pending}
            return render(request, "lists/confirm.html", page)
        done = membership.confirm(pending)
    except BadToken as exc:
        context: dict[str, object] = {
            "mailing_list": mailing_list,
            "reason": str(exc),
            "expired": isinstance(exc, ExpiredToken),
        }
        return render(request, "lists/bad_link.html", context, status=400)
    return render(request, "lists/confirmed.html", {"mailing_list": mailing_list, "done": done})


def _member_address(mailing_list: MailingList, token: str) -> str:
    """Return the member address a signed link names for this list; raise BadToken."""
    list_id, address = membership.read_member_token(token)
    if list_id != mailing_list.pk:
        raise BadToken(_("This link is not valid."))
    return address


@csrf_exempt  # The signed token is the authentication; mail providers send no cookies.
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, name: str, token: str) -> HttpResponse:
    """Leave a list from a relayed post's link; a POST does it, one-click or from the page."""
    mailing_list = list_named(request, name)
    try:
        address = _member_address(mailing_list, token)
    except BadToken as exc:
        return HttpResponse(str(exc), status=400, content_type=TEXT)
    if request.method != "POST":
        context = {"mailing_list": mailing_list, "address": address}
        return render(request, "lists/unsubscribe.html", context)
    membership.unsubscribe_by_token(token)
    if request.POST.get("List-Unsubscribe") == "One-Click":  # RFC 8058: a mail provider
        return HttpResponse("Unsubscribed.", content_type=TEXT)
    # Translators: an address left a list, e.g. "ann@example.org left news@example.org."
    done = _("%(address)s left %(list)s.") % {"address": address, "list": mailing_list.address}
    context = {"mailing_list": mailing_list, "done": done}
    return render(request, "lists/confirmed.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
def reenable(request: HttpRequest, name: str, token: str) -> HttpResponse:
    """Start the mail again for a member whose delivery bounces paused (a signed link)."""
    from tidings.lists.bounces import reenable as reenable_member

    mailing_list = list_named(request, name)
    try:
        address = _member_address(mailing_list, token)
    except BadToken as exc:
        return HttpResponse(str(exc), status=400, content_type=TEXT)
    member = membership.find_member(mailing_list, address)
    if member is None:
        return HttpResponse(_("You are not a member of this list."), status=404, content_type=TEXT)
    context = {"mailing_list": mailing_list, "address": member.address, "done": False}
    if request.method == "POST":
        reenable_member(member)
        context["done"] = True
    return render(request, "lists/reenable.html", context)


@require_http_methods(["GET", "HEAD"])
def roster(request: HttpRequest, name: str) -> HttpResponse:
    """Show the members to a logged-in member (or staff) when the list makes members visible."""
    mailing_list = list_named(request, name)
    if not can_see_roster(request.user, mailing_list):
        raise Http404("No such page.")
    page, next_key = members_page(mailing_list, "", request.GET.get("after", "")[:254])
    context = {"mailing_list": mailing_list, "members": page, "next_key": next_key}
    return render(request, "lists/roster.html", context)
