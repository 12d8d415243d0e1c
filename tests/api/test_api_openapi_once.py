"""The OpenAPI document is built once per process: anyone may ask for it, and building it
costs a fraction of a second of CPU each time."""

from __future__ import annotations

from django.test import Client
from ninja import NinjaAPI

from tidings.api.v1 import api


def test_the_openapi_document_is_built_once_and_served_whole(client: Client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    built = []
    build = NinjaAPI.get_openapi_schema

    def counted(self, **kwargs):  # type: ignore[no-untyped-def]
        built.append(kwargs)
        return build(self, **kwargs)

    monkeypatch.setattr(NinjaAPI, "get_openapi_schema", counted)
    monkeypatch.setattr(type(api), "schemas", {})

    first = client.get("/api/v1/openapi.json")
    second = client.get("/api/v1/openapi.json")

    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert "/api/v1/topics" in first.json()["paths"]
    assert len(built) == 1
    # A caller that changes its copy changes nobody else's.
    api.get_openapi_schema()["paths"].clear()
    assert client.get("/api/v1/openapi.json").json()["paths"]
