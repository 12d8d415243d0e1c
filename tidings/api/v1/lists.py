"""Mailing lists and their members: viewers read; topic admins add and remove members;
account admins create lists."""

from datetime import datetime
from typing import Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.pagination import paginate

from tidings.accounts.models import Account, Membership
from tidings.api.v1.common import Email, Page, PathId, account_of, get_or_404, line, responses, text
from tidings.lists.actions import add_member, create_list
from tidings.lists.membership import remove_member
from tidings.lists.models import MailingList, Member

router = Router(tags=["lists"])


class ListOut(Schema):
    id: int
    name: str
    address: str
    display_name: str
    description: str
    posting_policy: str
    require_sender_authentication: bool
    created: datetime


class ListIn(Schema):
    name: line(64, 1)  # type: ignore[valid-type]
    display_name: line(200) = ""  # type: ignore[valid-type]
    description: text(2000) = ""  # type: ignore[valid-type]
    posting_policy: Literal["announce", "members", "moderated", "open"] = "announce"
    # Default: on for announce-only lists, off for the others.
    require_sender_authentication: bool | None = None


class MemberOut(Schema):
    id: int
    address: str
    name: str
    delivery_mode: str
    created: datetime


class MemberIn(Schema):
    address: Email  # type: ignore[valid-type]
    name: line(200) = ""  # type: ignore[valid-type]


def lists_of(account: Account) -> QuerySet[MailingList]:
    return MailingList.objects.filter(account=account).order_by("id")


@router.get("/lists", response=responses(200, list[ListOut]), summary="List mailing lists")
@paginate(Page)
def list_lists(request: HttpRequest) -> QuerySet[MailingList]:
    return lists_of(account_of(request))


@router.post(
    "/lists",
    response=responses(201, ListOut),
    summary="Create a mailing list at name@ the lists domain (account admins)",
)
def create_mailing_list(request: HttpRequest, payload: ListIn) -> Status[MailingList]:
    account = account_of(request, Membership.ADMIN)
    created = create_list(
        payload.name,
        account=account,
        display_name=payload.display_name,
        description=payload.description,
        posting_policy=payload.posting_policy,
        require_sender_authentication=payload.require_sender_authentication,
    )
    return Status(201, created)


@router.get("/lists/{list_id}", response=responses(200, ListOut), summary="Read a mailing list")
def get_list(request: HttpRequest, list_id: PathId) -> MailingList:
    return get_or_404(lists_of(account_of(request)), "list", pk=list_id)


@router.get(
    "/lists/{list_id}/members",
    response=responses(200, list[MemberOut]),
    summary="List a mailing list's members",
)
@paginate(Page)
def list_members(request: HttpRequest, list_id: PathId) -> QuerySet[Member]:
    mailing_list = get_or_404(lists_of(account_of(request)), "list", pk=list_id)
    return mailing_list.members.order_by("id")


@router.post(
    "/lists/{list_id}/members",
    response=responses(201, MemberOut),
    summary="Add a member (no confirmation mail: the account vouches for the address)",
)
def add_list_member(request: HttpRequest, list_id: PathId, payload: MemberIn) -> Status[Member]:
    account = account_of(request, Membership.TOPIC_ADMIN)
    mailing_list = get_or_404(lists_of(account), "list", pk=list_id)
    return Status(201, add_member(mailing_list, payload.address, payload.name))


@router.delete(
    "/lists/{list_id}/members/{member_id}",
    response=responses(204, None),
    summary="Remove a member",
)
def remove_list_member(request: HttpRequest, list_id: PathId, member_id: PathId) -> Status[None]:
    account = account_of(request, Membership.TOPIC_ADMIN)
    mailing_list = get_or_404(lists_of(account), "list", pk=list_id)
    member = get_or_404(mailing_list.members.all(), "member", pk=member_id)
    remove_member(mailing_list, member.address)
    return Status(204, None)
