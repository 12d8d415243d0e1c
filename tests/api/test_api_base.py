"""A client for the REST API with a token of a given account and role, shared by test_api_*.

alice's State Department (USSTATEBPA) is the account under test; the other agency
(OTHERAGENCY) holds objects the State Department's tokens must never reach.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.test.client import Client as DjangoClient

from tidings.accounts.models import Account
from tidings.api.actions import create_token


class Api:
    """Calls /api/v1/ with `Authorization: Bearer <secret>` and JSON bodies."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.client: DjangoClient = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")

    def _call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        url = "/api/v1" + path
        call = getattr(self.client, method)
        if method == "get":
            return call(url, params)
        if body is None:
            return call(url)
        return call(url, json.dumps(body), content_type="application/json")

    def get(self, path: str, **params: Any) -> Any:
        return self._call("get", path, **params)

    def post(self, path: str, body: Any = None) -> Any:
        return self._call("post", path, body)

    def patch(self, path: str, body: Any) -> Any:
        return self._call("patch", path, body)

    def put(self, path: str, body: Any) -> Any:
        return self._call("put", path, body)

    def delete(self, path: str) -> Any:
        return self._call("delete", path)


ApiFactory = Callable[..., Api]


@pytest.fixture
def api_as(db: None) -> ApiFactory:
    """Return a function making an Api client with a new token of (account, role)."""

    def make(account: Account, role: str = "admin") -> Api:
        _token, secret = create_token(account, name=f"{role} token", role=role)
        return Api(secret)

    return make


@pytest.fixture
def api(account: Account, api_as: ApiFactory) -> Api:
    """An account admin's token of the State Department."""
    return api_as(account, "admin")


@pytest.fixture
def other_api(other_account: Account, api_as: ApiFactory) -> Api:
    """An account admin's token of the other agency."""
    return api_as(other_account, "admin")
