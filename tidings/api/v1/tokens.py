"""API tokens of the account: account admins only. The account itself: any token."""

from datetime import datetime
from typing import Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.pagination import paginate

from tidings.accounts.models import Membership
from tidings.api import actions
from tidings.api.models import ApiToken
from tidings.api.v1.common import (
    Page,
    PathId,
    account_of,
    get_or_404,
    line,
    responses,
    token_of,
)

router = Router(tags=["tokens"])

Role = Literal["admin", "topic_admin", "author", "viewer"]


class AccountOut(Schema):
    code: str
    name: str
    time_zone: str
    language: str
    role: Role
    token: str


class TokenOut(Schema):
    id: int
    name: str
    role: Role
    prefix: str
    created: datetime
    last_used: datetime | None
    revoked: datetime | None


class NewTokenOut(TokenOut):
    secret: str


class TokenIn(Schema):
    name: line(100, 1)  # type: ignore[valid-type]
    role: Role = "viewer"


@router.get("/account", response=responses(200, AccountOut), summary="The token's account")
def whoami(request: HttpRequest) -> AccountOut:
    token = token_of(request)
    account = token.account
    return AccountOut(
        code=account.code,
        name=account.name,
        time_zone=account.time_zone,
        language=account.language,
        role=token.role,  # type: ignore[arg-type]
        token=token.name,
    )


@router.get("/tokens", response=responses(200, list[TokenOut]), summary="List API tokens")
@paginate(Page)
def list_tokens(request: HttpRequest) -> QuerySet[ApiToken]:
    return account_of(request, Membership.ADMIN).api_tokens.order_by("id")


@router.post(
    "/tokens",
    response=responses(201, NewTokenOut),
    summary="Create an API token; its secret is in this answer only",
)
def add_token(request: HttpRequest, payload: TokenIn) -> Status[NewTokenOut]:
    account = account_of(request, Membership.ADMIN)
    token, secret = actions.create_token(account, name=payload.name, role=payload.role)
    return Status(201, NewTokenOut(secret=secret, **TokenOut.from_orm(token).dict()))


@router.delete(
    "/tokens/{token_id}", response=responses(200, TokenOut), summary="Revoke an API token"
)
def revoke_token(request: HttpRequest, token_id: PathId) -> ApiToken:
    account = account_of(request, Membership.ADMIN)
    token = get_or_404(account.api_tokens.all(), "token", pk=token_id)
    actions.revoke_token(token)
    return token
