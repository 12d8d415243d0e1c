"""Data a user touches stays safe: CSV that spreadsheets open safely, imports that report a bad
row and go on, all-or-none subscribing from the CLI, authors kept to their topics."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.test import Client

from tests.ops.test_processes import env, tidings  # noqa: F401
from tests.subscribers.test_subscribers_console import logged_in, tina, upload  # noqa: F401
from tidings.accounts.models import Account, Membership
from tidings.bulletins.actions import create_bulletin, publish_bulletin
from tidings.lib.spreadsheet import safe_cell, unquote_cell
from tidings.subscribers.actions import subscribe
from tidings.subscribers.import_jobs import process_one_import
from tidings.subscribers.importer import read_rows
from tidings.subscribers.models import ImportJob, Subscriber
from tidings.topics.actions import create_topic
from tidings.topics.models import Topic

FORMULA = "=1+2@example.org"  # a valid address, and a formula to a spreadsheet


def _csv(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.parametrize("cell", ["=SUM(A1)", "+1", "-2", "@cmd", "\tx", "\rx"])
def test_cells_a_spreadsheet_would_run_are_quoted_and_read_back(cell: str) -> None:
    assert safe_cell(cell) == "'" + cell
    assert unquote_cell(str(safe_cell(cell))) == cell
    assert safe_cell("ann@example.org") == "ann@example.org"


@pytest.mark.django_db
def test_the_subscriber_export_neutralizes_formulas(alice, account: Account, topic: Topic) -> None:  # type: ignore[no-untyped-def]
    subscribe(account, FORMULA, [topic], confirmed=True)
    rows = _csv(logged_in(alice).get(f"/console/{account.code}/subscribers/export.csv"))
    cells = [cell for row in rows[1:] for cell in row]
    assert "'" + FORMULA in cells
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
    # And the importer reads the exported file back to the same address.
    text = "\n".join(",".join(row) for row in rows)
    assert FORMULA in [value for _, value in read_rows(io.StringIO(text))]


@pytest.mark.django_db
def test_the_recipient_report_neutralizes_formulas(alice, account: Account, topic: Topic) -> None:  # type: ignore[no-untyped-def]
    subscribe(account, FORMULA, [topic], confirmed=True)
    bulletin = create_bulletin(account, subject="News", body="x", topics=[topic])
    publish_bulletin(bulletin)
    url = f"/console/{account.code}/analytics/bulletins/{bulletin.pk}/recipients.csv"
    cells = [cell for row in _csv(logged_in(alice).get(url))[1:] for cell in row]
    assert "'" + FORMULA in cells


@pytest.mark.django_db
def test_a_console_import_reports_an_oversized_row_and_imports_the_rest(  # type: ignore[no-untyped-def]
    tina,  # noqa: F811
    account: Account,
    topic: Topic,
) -> None:
    huge = "x" * 200_000
    text = f'email,note\nann@example.org,hi\nbob@example.org,"{huge}"\ncid@example.org,ok\n'
    upload(logged_in(tina), account, topic, text)
    assert process_one_import() is True
    job = ImportJob.objects.get()
    assert job.state == ImportJob.DONE, job.failure
    assert job.report["added"] == 2
    assert job.error_count == 1
    assert set(Subscriber.objects.values_list("email", flat=True)) == {
        "ann@example.org",
        "cid@example.org",
    }


def test_the_cli_import_reports_an_oversized_row_and_imports_the_rest(env, tmp_path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    tidings(env, "migrate", "--verbosity", "0")
    tidings(env, "create-account", "--code", "CITY", "--name", "City",
            "--sender-address", "news@tidings.localhost")  # fmt: skip
    tidings(env, "create-topic", "--account", "CITY", "--name", "News", "--code", "CITY_1")
    path = tmp_path / "people.csv"
    path.write_text(f'email,note\nann@example.org,"{"y" * 200_000}"\nbob@example.org,fine\n')
    result = tidings(env, "import-subscribers", str(path), "--account", "CITY",
                     "--topic", "CITY_1", "--confirmed", "--json", check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout[result.stdout.index("{") :])
    assert report["added"] == 1
    assert [e["line"] for e in report["errors"]] == [2]
    assert "could not be read" in report["errors"][0]["error"]


def test_add_subscriber_names_a_bad_address_and_subscribes_none(env) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    tidings(env, "migrate", "--verbosity", "0")
    tidings(env, "create-account", "--code", "CITY", "--name", "City",
            "--sender-address", "news@tidings.localhost")  # fmt: skip
    tidings(env, "create-topic", "--account", "CITY", "--name", "News", "--code", "CITY_1")
    result = tidings(env, "add-subscriber", "ann@example.org", "not-an-address", "bob@example.org",
                     "--account", "CITY", "--topic", "CITY_1", check=False)  # fmt: skip
    assert result.returncode != 0
    assert "'not-an-address'" in result.stderr
    assert "Nobody was subscribed" in result.stderr
    count = tidings(env, "django", "shell", "-c",
                    "from tidings.subscribers.models import Subscriber; "
                    "print(Subscriber.objects.count())").stdout  # fmt: skip
    assert count.strip().endswith("0")


@pytest.fixture
def limited(account: Account, erin, topic: Topic):  # type: ignore[no-untyped-def]
    """erin may write to "Press Releases" only; another topic's bulletin is not hers."""
    other = create_topic(account, name="Internal", code="USSTATEBPA_7")
    Membership.objects.get(user=erin, account=account).topics.set([topic])
    subscribe(account, "bob@example.org", [topic, other], confirmed=True)
    mine = create_bulletin(account, subject="Mine to see", body="x", topics=[topic])
    theirs = create_bulletin(account, subject="Not hers", body="y", topics=[other])
    both = create_bulletin(account, subject="Shared one", body="z", topics=[topic, other])
    for bulletin in (mine, theirs, both):
        publish_bulletin(bulletin)
    return mine, theirs, both, other


@pytest.mark.django_db
def test_a_limited_author_sees_only_her_topics_bulletins_and_reports(
    erin, account, limited
) -> None:  # type: ignore[no-untyped-def]
    mine, theirs, both, other = limited
    client: Client = logged_in(erin)
    base = f"/console/{account.code}"
    listing = client.get(f"{base}/bulletins/").content.decode()
    assert "Mine to see" in listing
    assert "Not hers" not in listing and "Shared one" not in listing
    assert client.get(f"{base}/bulletins/{mine.pk}/").status_code == 200
    for hidden in (theirs, both):
        assert client.get(f"{base}/bulletins/{hidden.pk}/").status_code == 404
        assert client.get(f"{base}/analytics/bulletins/{hidden.pk}/").status_code == 404
        csv_url = f"{base}/analytics/bulletins/{hidden.pk}/recipients.csv"
        assert client.get(csv_url).status_code == 404
    analytics = client.get(f"{base}/analytics/").content.decode()
    assert "Not hers" not in analytics and "Mine to see" in analytics
    assert client.get(f"{base}/analytics/topics/{other.pk}/").status_code == 404


@pytest.mark.django_db
def test_an_unlimited_author_still_sees_every_bulletin(erin, account, limited) -> None:  # type: ignore[no-untyped-def]
    Membership.objects.get(user=erin, account=account).topics.clear()
    listing = logged_in(erin).get(f"/console/{account.code}/bulletins/").content.decode()
    assert "Not hers" in listing and "Shared one" in listing
