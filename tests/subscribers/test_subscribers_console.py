"""Staff pages of the subscribers app: list, detail, import, export, suppressions, signup form."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.subscribers.test_subscribe import queued_to
from tidings.accounts.models import Account
from tidings.subscribers import actions
from tidings.subscribers.import_jobs import process_one_import
from tidings.subscribers.models import BounceEvent, ImportJob, Subscriber, Suppression
from tidings.topics.actions import create_topic
from tidings.topics.models import Topic


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Uploaded files and error reports go under the data dir: a fresh one per test."""
    settings.DATA_DIR = tmp_path


def logged_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def url(name: str, account: Account, *args: object) -> str:
    return reverse(f"subscribers_console:{name}", args=[account.code, *args])


def add_many(account: Account, count: int) -> None:
    Subscriber.objects.bulk_create(
        Subscriber(account=account, email=f"user{i:03}@example.org", status=Subscriber.CONFIRMED)
        for i in range(count)
    )


# --- list and detail ---------------------------------------------------------------------------


def test_it_lists_subscribers_to_a_viewer(victor, bob: Subscriber, account: Account) -> None:  # type: ignore[no-untyped-def]
    r = logged_in(victor).get(url("list", account))
    assert r.status_code == 200
    assert b"bob@example.org" in r.content


def test_it_hides_the_list_from_another_tenant(oscar, bob: Subscriber, account: Account) -> None:  # type: ignore[no-untyped-def]
    assert logged_in(oscar).get(url("list", account)).status_code == 404


def test_it_sends_anonymous_visitors_to_log_in(client: Client, account: Account) -> None:
    r = client.get(url("list", account))
    assert r.status_code == 302
    assert "/login/" in r["Location"]


def test_it_finds_addresses_by_their_start(victor, account: Account) -> None:  # type: ignore[no-untyped-def]
    add_many(account, 3)
    Subscriber.objects.create(account=account, email="zed@example.org")
    r = logged_in(victor).get(url("list", account), {"q": "zed"})
    assert b"zed@example.org" in r.content
    assert b"user000@example.org" not in r.content


def test_it_pages_by_address_without_counting(victor, account: Account, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CONSOLE_PAGE_SIZE = 2
    add_many(account, 5)
    client = logged_in(victor)
    with CaptureQueriesContext(connection) as queries:
        first = client.get(url("list", account))
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    assert b"user001@example.org" in first.content
    assert b"user002@example.org" not in first.content
    second = client.get(url("list", account), {"after": first.context["next_after"]})
    assert b"user002@example.org" in second.content
    assert b"user003@example.org" in second.content
    assert b"user001@example.org" not in second.content
    last = client.get(url("list", account), {"after": second.context["next_after"]})
    assert b"user004@example.org" in last.content
    assert last.context["next_after"] is None


def test_it_lists_a_long_page_in_a_few_queries(
    victor, account: Account, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    add_many(account, 120)
    client = logged_in(victor)
    with django_assert_max_num_queries(8):
        client.get(url("list", account))


def test_it_shows_a_subscribers_topics_bounces_and_history(
    victor, bob: Subscriber, topic: Topic, account: Account
) -> None:  # type: ignore[no-untyped-def]
    BounceEvent.objects.create(
        account=account,
        subscriber=bob,
        email=bob.email,
        kind=BounceEvent.TEMPORARY,
        status="4.2.2",
        decision=BounceEvent.SCORED,
        reason="mailbox full",
    )
    r = logged_in(victor).get(url("detail", account, bob.pk))
    assert r.status_code == 200
    page = r.content.decode()
    assert topic.name in page
    assert "4.2.2" in page
    assert "mailbox full" in page
    assert "Confirmed" in page


def test_it_hides_another_tenants_subscriber(
    alice, other_account: Account, account: Account
) -> None:  # type: ignore[no-untyped-def]
    stranger = Subscriber.objects.create(account=other_account, email="x@example.org")
    assert logged_in(alice).get(url("detail", account, stranger.pk)).status_code == 404


# --- import ------------------------------------------------------------------------------------


def upload(client: Client, account: Account, topic: Topic, text: str, mode: str = "confirmed"):  # type: ignore[no-untyped-def]
    data = {
        "file": SimpleUploadedFile("people.csv", text.encode(), content_type="text/csv"),
        "topics": [topic.pk],
        "mode": mode,
    }
    return client.post(url("imports", account), data)


@pytest.fixture
def tina(account: Account):  # type: ignore[no-untyped-def]
    """A topic admin at the State Department."""
    from tests.conftest import _console_user

    return _console_user(account, "tina", "topic_admin")


def test_it_queues_an_uploaded_file_for_a_worker(tina, account: Account, topic: Topic) -> None:  # type: ignore[no-untyped-def]
    r = upload(logged_in(tina), account, topic, "email\nann@example.org\n")
    job = ImportJob.objects.get()
    assert r.status_code == 302
    assert r["Location"] == url("import_job", account, job.pk)
    assert job.state == ImportJob.QUEUED
    assert not Subscriber.objects.exists()  # nothing until a worker runs it


def test_it_refreshes_the_progress_page_without_javascript(
    tina, account: Account, topic: Topic
) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(tina)
    upload(client, account, topic, "email\nann@example.org\n")
    r = client.get(url("import_job", account, ImportJob.objects.get().pk))
    assert b'<meta http-equiv="refresh" content="2">' in r.content
    assert b"<progress" in r.content


def test_it_imports_in_the_worker_and_reports_each_bad_row(
    tina, account: Account, topic: Topic
) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(tina)
    upload(client, account, topic, "email\nann@example.org\nnot an address\ncid@example.org\n")
    assert process_one_import() is True
    job = ImportJob.objects.get()
    assert job.state == ImportJob.DONE
    assert job.report["added"] == 2
    assert topic.subscriptions.count() == 2
    page = client.get(url("import_job", account, job.pk))
    assert b"http-equiv" not in page.content
    # The bad rows on the page itself, and as a download.
    assert b'<td class="num">3</td><td>not an address</td>' in page.content
    errors = client.get(url("import_errors", account, job.pk))
    assert errors.status_code == 200
    assert "attachment" in errors["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(errors.streaming_content).decode())))
    assert rows == [["line", "value", "error"], ["3", "not an address", rows[1][2]]]


def test_it_lets_imported_addresses_opt_in(tina, account: Account, topic: Topic) -> None:  # type: ignore[no-untyped-def]
    upload(logged_in(tina), account, topic, "email\nann@example.org\n", mode="opt-in")
    process_one_import()
    assert Subscriber.objects.get(email="ann@example.org").status == Subscriber.PENDING
    assert not topic.subscriptions.exists()
    assert len(queued_to("ann@example.org")) == 1


def test_it_lets_one_worker_claim_a_job(tina, account: Account, topic: Topic) -> None:  # type: ignore[no-untyped-def]
    upload(logged_in(tina), account, topic, "email\nann@example.org\n")
    assert process_one_import() is True
    assert process_one_import() is False


def test_it_refuses_a_topic_of_another_account(
    tina, account: Account, other_account: Account
) -> None:  # type: ignore[no-untyped-def]
    theirs = create_topic(other_account, name="Theirs", code="OTHERAGENCY_1")
    r = upload(logged_in(tina), account, theirs, "email\nann@example.org\n")
    assert r.status_code == 200
    assert not ImportJob.objects.exists()


def test_it_hides_an_import_from_another_tenant(
    tina, oscar, account: Account, other_account: Account, topic: Topic
) -> None:  # type: ignore[no-untyped-def]
    upload(logged_in(tina), account, topic, "email\nann@example.org\n")
    job = ImportJob.objects.get()
    client = logged_in(oscar)
    assert client.get(url("import_job", other_account, job.pk)).status_code == 404
    assert client.get(url("import_job", account, job.pk)).status_code == 404


def test_it_keeps_viewers_away_from_import_and_export(victor, account: Account) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(victor)
    assert client.get(url("imports", account)).status_code == 404
    assert client.get(url("export", account)).status_code == 404


def test_it_exports_the_accounts_subscribers(
    tina, bob: Subscriber, account: Account, other_account: Account
) -> None:  # type: ignore[no-untyped-def]
    Subscriber.objects.create(account=other_account, email="x@example.org")
    r = logged_in(tina).get(url("export", account))
    body = b"".join(r.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["email", "status", "delivery_mode", "topics", "created"]
    assert [row[0] for row in rows[1:]] == ["bob@example.org"]


# --- suppressions ------------------------------------------------------------------------------


def test_it_suppresses_an_address_by_hand(tina, account: Account) -> None:  # type: ignore[no-untyped-def]
    client = logged_in(tina)
    r = client.post(url("suppression_add", account), {"email": "ann@example.org", "note": "asked"})
    assert r.status_code == 302
    assert actions.is_suppressed(account, "ann@example.org")
    assert b"ann@example.org" in client.get(url("suppressions", account)).content


def test_it_lifts_a_suppression(tina, account: Account) -> None:  # type: ignore[no-untyped-def]
    row = actions.suppress(account, "ann@example.org")
    logged_in(tina).post(url("suppression_remove", account, row.pk))
    assert not actions.is_suppressed(account, "ann@example.org")


def test_it_shows_global_suppressions_read_only(tina, account: Account) -> None:  # type: ignore[no-untyped-def]
    Subscriber.objects.create(account=account, email="gone@example.org")
    row = actions.suppress(None, "gone@example.org", Suppression.HARD_BOUNCE)
    client = logged_in(tina)
    page = client.get(url("suppressions", account)).content.decode()
    assert "gone@example.org" in page
    assert url("suppression_remove", account, row.pk) not in page
    assert client.post(url("suppression_remove", account, row.pk)).status_code == 404
    assert actions.is_suppressed(account, "gone@example.org")


def test_it_shows_no_global_suppression_of_another_accounts_subscriber(
    tina, account: Account, other_account: Account
) -> None:  # type: ignore[no-untyped-def]
    Subscriber.objects.create(account=other_account, email="theirs@example.org")
    actions.suppress(None, "theirs@example.org", Suppression.HARD_BOUNCE)
    page = logged_in(tina).get(url("suppressions", account), {"q": "theirs"})
    assert b"theirs@example.org" not in page.content


def test_it_lets_viewers_look_but_not_suppress(victor, account: Account) -> None:  # type: ignore[no-untyped-def]
    actions.suppress(account, "ann@example.org")
    client = logged_in(victor)
    page = client.get(url("suppressions", account))
    assert b"ann@example.org" in page.content
    assert b"Suppress an address" not in page.content
    r = client.post(url("suppression_add", account), {"email": "cid@example.org"})
    assert r.status_code == 404
    assert not actions.is_suppressed(account, "cid@example.org")


def test_it_keeps_another_tenants_suppressions_apart(
    oscar, account: Account, other_account: Account
) -> None:  # type: ignore[no-untyped-def]
    row = actions.suppress(account, "ann@example.org")
    client = logged_in(oscar)
    assert client.post(url("suppression_remove", other_account, row.pk)).status_code == 404
    assert b"ann@example.org" not in client.get(url("suppressions", other_account)).content


# --- signup form and menu ----------------------------------------------------------------------


def test_it_gives_a_snippet_with_the_listed_topics(victor, account: Account, topic: Topic) -> None:  # type: ignore[no-untyped-def]
    hidden = create_topic(account, name="Internal", code="USSTATEBPA_9", listed=False)
    r = logged_in(victor).get(url("embed", account))
    snippet = r.context["snippet"]
    assert reverse("subscribers:embed", args=[account.code]) in snippet
    assert f'value="{topic.pk}"' in snippet
    assert f'value="{hidden.pk}"' not in snippet
    assert 'name="website"' in snippet
    assert "csrfmiddlewaretoken" not in snippet


def test_it_lists_its_pages_in_the_console_menu(victor, tina, account: Account) -> None:  # type: ignore[no-untyped-def]
    viewer = logged_in(victor).get(reverse("console:account", args=[account.code])).content
    admin = logged_in(tina).get(reverse("console:account", args=[account.code])).content
    assert url("list", account).encode() in viewer
    assert url("imports", account).encode() not in viewer
    assert url("imports", account).encode() in admin
