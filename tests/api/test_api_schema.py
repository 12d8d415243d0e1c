"""The OpenAPI document, the docs page, and a schemathesis run against the live API.

Schemathesis generates requests from the document for every operation, with an admin token,
and checks that no answer is a 5xx and every answer (status code, content type, body) is one
the document describes. Each operation runs a few examples with generated ids (mostly 404s)
and a few with the ids of real objects (so the 2xx bodies are checked too); deletions run
last. Bounded by the number of examples; about 30 s here.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tidings.accounts.models import Account
from tidings.api.actions import create_token
from tidings.bulletins.actions import create_bulletin
from tidings.lists.models import MailingList
from tidings.subscribers.models import Subscriber
from tidings.topics.models import Category, Topic

# Examples per operation: with the ids of real objects, and with generated ids (mostly 404s).
MAX_EXAMPLES = 5
MAX_EXAMPLES_GENERATED_IDS = 2
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_the_openapi_document_is_served_without_a_token(db: None) -> None:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["info"]["title"] == "Tidings API"
    assert "/api/v1/bulletins/{bulletin_id}/send" in document["paths"]
    assert document["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"


def test_every_operation_documents_its_errors(db: None) -> None:
    document = Client().get("/api/v1/openapi.json").json()
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            codes = set(operation["responses"])
            assert {"401", "403", "404", "422"} <= codes, f"{method} {path}"


def test_the_docs_page_is_served_from_our_own_files(db: None) -> None:
    client = Client()
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/api/v1/openapi.json" in html
    assert "cdn" not in html.lower()
    script = client.get("/api/v1/docs/assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and script["Content-Type"] == "text/javascript"
    assert client.get("/api/v1/docs/assets/..%2Fmain.py").status_code == 404


def seed(account: Account, topic: Topic, bob: Subscriber, wanabidii: MailingList) -> dict[str, int]:
    """Return an id of a real object of the account for each path parameter name."""
    category = Category.objects.create(account=account, name="Travel")
    bulletin = create_bulletin(account, subject="Visa fees", body="Soon.", topics=[topic])
    token, _secret = create_token(account, name="spare", role="viewer")
    return {
        "topic_id": topic.pk,
        "category_id": category.pk,
        "subscriber_id": bob.pk,
        "bulletin_id": bulletin.pk,
        "list_id": wanabidii.pk,
        "member_id": wanabidii.members.order_by("pk").first().pk,  # type: ignore[union-attr]
        "token_id": token.pk,
    }


@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    live_server: Any,
    account: Account,
    topic: Topic,
    bob: Subscriber,
    wanabidii: MailingList,
    settings: Any,
) -> None:
    # Thousands of requests in a minute: the per-token limit is tested on its own.
    settings.API_RATE_PER_MINUTE = 0
    ids = seed(account, topic, bob, wanabidii)
    _token, secret = create_token(account, name="schemathesis", role="admin")
    headers = {"Authorization": f"Bearer {secret}"}
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    # Deletions last, so the other operations still find the seeded objects.
    operations.sort(key=lambda op: op.method.upper() == "DELETE")
    session = requests.Session()
    calls: dict[int, int] = {}

    for operation in operations:
        names = [p.name for p in operation.path_parameters]
        fixed = {name: ids[name] for name in names if name in ids}
        strategies = [(operation.as_strategy(path_parameters=fixed), MAX_EXAMPLES)]
        if names:
            strategies.append((operation.as_strategy(), MAX_EXAMPLES_GENERATED_IDS))
        for strategy, examples in strategies:

            @hypothesis_settings(
                max_examples=examples,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=strategy)
            def run(case: Any) -> None:
                response = case.call(base_url=live_server.url, session=session, headers=headers)
                calls[response.status_code] = calls.get(response.status_code, 0) + 1
                case.validate_response(response, checks=CHECKS, headers=headers)

            run()

    assert len(operations) >= 30
    # The seeded ids reached real objects: some operations answered 2xx, not only errors.
    assert sum(n for code, n in calls.items() if code < 300) >= len(operations)
