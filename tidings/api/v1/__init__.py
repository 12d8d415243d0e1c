"""Version 1 of the REST API: one NinjaAPI, one router per resource, JSON errors everywhere.

OpenAPI document: /api/v1/openapi.json; docs page: /api/v1/docs.
"""

from __future__ import annotations

import copy
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError
from ninja.openapi.schema import OpenAPISchema

from tidings.api.docs import LocalSwagger
from tidings.api.v1 import bulletins, lists, subscribers, texts, tokens, topics
from tidings.api.v1.common import BearerToken, TooManyRequests
from tidings.delivery.actions import SendStateError

DESCRIPTION = """Every request carries an account's token: `Authorization: Bearer tid_…`
(account admins make them on the console's API tokens page, or operators with
`tidings create-api-token`). The token's role decides what it may do: viewers read,
authors write bulletins, topic admins manage topics, categories, subscribers and lists,
account admins manage tokens. Objects of other accounts answer 404.

Errors are JSON: `{"detail": "what went wrong", "errors": [{"field": …, "message": …}]}`.
Lists take `limit` (at most 200) and `offset`, and answer `items` and the total `count`."""


class TidingsAPI(NinjaAPI):
    """The API, whose OpenAPI document is built once per process: it never changes while the
    process runs, and building it costs 0.1-1 s of CPU on a page anyone may ask for."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        key = (path_prefix, tuple(sorted((path_params or {}).items())))
        if key not in self.schemas:
            self.schemas[key] = super().get_openapi_schema(
                path_prefix=path_prefix, path_params=path_params
            )
        return copy.deepcopy(self.schemas[key])  # callers may change theirs

    schemas: dict[tuple[object, ...], OpenAPISchema] = {}


api = TidingsAPI(
    title="Tidings API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api:v1",
    auth=BearerToken(),
    docs=LocalSwagger(),
)
for module in (topics, subscribers, bulletins, lists, texts, tokens):
    api.add_router("/", module.router)


def _field(loc: list[object]) -> str:
    # ninja puts where the value came from first ("body", "query", "path") and the argument
    # name of the body next; the client only needs the field.
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[2:] if len(parts) > 2 else parts[1:]
    elif parts and parts[0] in ("query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts) or "body"


@api.exception_handler(ValidationError)
def invalid_input(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [{"field": _field(list(e.get("loc", []))), "message": e["msg"]} for e in exc.errors]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "Invalid input."
    return api.create_response(request, {"detail": detail, "errors": errors}, status=422)


@api.exception_handler(DjangoValidationError)
def refused_by_action(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    errors = []
    if hasattr(exc, "error_dict"):
        for field, messages in exc.message_dict.items():
            errors += [{"field": field, "message": m} for m in messages]
    detail = " ".join(exc.messages) or "Invalid input."
    return api.create_response(request, {"detail": detail, "errors": errors}, status=422)


@api.exception_handler(SendStateError)
def wrong_state(request: HttpRequest, exc: SendStateError) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=409)


@api.exception_handler(TooManyRequests)
def too_many(request: HttpRequest, exc: TooManyRequests) -> HttpResponse:
    response = api.create_response(request, {"detail": str(exc)}, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = api.create_response(
        request,
        {"detail": "A valid API token is needed: send 'Authorization: Bearer tid_…'."},
        status=401,
    )
    response["WWW-Authenticate"] = 'Bearer realm="tidings"'
    return response
