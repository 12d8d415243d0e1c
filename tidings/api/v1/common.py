"""What every resource of the API shares: authentication, roles, errors, pagination, lookups."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from django.conf import settings
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from ninja import Field, Path, Schema
from ninja.errors import HttpError
from ninja.pagination import PaginationBase
from ninja.security import HttpBearer
from pydantic import AfterValidator

from tidings.accounts.models import Account, Membership
from tidings.api import actions
from tidings.api.models import ApiToken
from tidings.lib.headers import check_line
from tidings.subscribers.actions import allow, seconds_until_allowed

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
# Ids in paths and bodies: positive and within a 64-bit column, so a huge number is a 422,
# not a database overflow.
MAX_ID = 2**63 - 1


class TooManyRequests(Exception):
    """The token made more requests this minute than TIDINGS_API_RATE_PER_MINUTE allows."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many requests with this token; try again in {retry_after} s.")
        self.retry_after = retry_after


class BearerToken(HttpBearer):
    """`Authorization: Bearer tid_…`; the token decides the account and the role."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = actions.authenticate(token)
        limit = settings.API_RATE_PER_MINUTE
        if found is not None and limit > 0:
            # Counted in the database, so every web process shares one budget per token.
            key = f"api-token:{found.pk}"
            if not allow(key, limit, 60):
                raise TooManyRequests(seconds_until_allowed(key, limit, 60))
        return found


def token_of(request: HttpRequest) -> ApiToken:
    token = request.auth  # type: ignore[attr-defined]
    assert isinstance(token, ApiToken)
    return token


def account_of(request: HttpRequest, role: str = Membership.VIEWER) -> Account:
    """Return the token's account if the token holds at least `role`, else answer 403."""
    token = token_of(request)
    if not token.has_role(role):
        raise HttpError(
            403, f"This token's role is {token.role}; this needs {role} or a higher role."
        )
    return token.account


M = TypeVar("M", bound=Model)


def get_or_404(queryset: QuerySet[M], what: str, **lookup: Any) -> M:
    """Return the one object, or answer 404 (another account's objects are not found either)."""
    found = queryset.filter(**lookup).first()
    if found is None:
        shown = ", ".join(str(v) for v in lookup.values())
        raise HttpError(404, f"No {what} {shown} in this account.")
    return found


def _no_nul(value: str) -> str:
    # PostgreSQL text can't hold NUL; refuse it here rather than fail in the database.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def text(max_length: int, min_length: int = 0) -> Any:
    """A string field of bounded length without NUL characters."""
    return Annotated[
        str, Field(min_length=min_length, max_length=max_length), AfterValidator(_no_nul)
    ]


def line(max_length: int, min_length: int = 0) -> Any:
    """A one-line string that may reach a mail header: no CR, LF, NUL or other control character."""
    return Annotated[
        str, Field(min_length=min_length, max_length=max_length), AfterValidator(check_line)
    ]


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# A list of ids in a body: bounded, so one request can't build an unbounded IN (…).
Ids = Annotated[list[Id], Field(max_length=500)]
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
Email = line(254, 3)


class FieldError(Schema):
    field: str
    message: str


class Error(Schema):
    detail: str
    errors: list[FieldError] = []


# Every operation may answer these with an Error body.
ERROR_CODES = frozenset({400, 401, 403, 404, 409, 422})


def responses(code: int, schema: Any) -> dict[Any, Any]:
    return {code: schema, ERROR_CODES: Error}


class Page(PaginationBase):
    """limit/offset pagination with a maximum page size; `count` is the total."""

    class Input(Schema):
        limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
        offset: int = Field(0, ge=0, le=10**9)

    class Output(Schema):
        items: list[Any]
        count: int
        limit: int
        offset: int

    def paginate_queryset(
        self, queryset: QuerySet[Any], pagination: Any, request: HttpRequest, **params: Any
    ) -> dict[str, Any]:
        start, limit = pagination.offset, pagination.limit
        return {
            "items": list(queryset[start : start + limit]),
            "count": queryset.count(),
            "limit": limit,
            "offset": start,
        }


def by_ids(queryset: QuerySet[M], ids: list[int], what: str) -> list[M]:
    """Return the objects with these ids, or answer 422 naming the ones not in the account."""
    found = list(queryset.filter(pk__in=ids))
    missing = set(ids) - {obj.pk for obj in found}
    if missing:
        shown = ", ".join(str(pk) for pk in sorted(missing))
        raise HttpError(422, f"No {what} {shown} in this account.")
    return found
