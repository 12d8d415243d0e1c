"""CSV import and export of subscribers: validation, per-row errors, skips, both modes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from email_validator import EmailNotValidError, validate_email

from tests.subscribers.test_subscribe import queued_to
from tidings.accounts.actions import create_account
from tidings.accounts.models import Account
from tidings.subscribers import actions, importer
from tidings.subscribers.importer import check_address
from tidings.subscribers.models import Subscriber, Suppression
from tidings.topics.actions import create_topic
from tidings.topics.models import Topic


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "people.csv"
    path.write_text(text)
    return path


def run(path: Path, *args: str) -> dict:  # type: ignore[type-arg]
    out = io.StringIO()
    call_command(
        "import_subscribers", str(path), "--account", "USSTATEBPA", "--json", *args, stdout=out
    )
    return json.loads(out.getvalue())  # type: ignore[no-any-return]


def statuses(account: Account) -> dict[str, str]:
    return dict(Subscriber.objects.filter(account=account).values_list("email", "status"))


def test_it_imports_confirmed_subscribers(tmp_path: Path, account: Account, topic: Topic) -> None:
    path = write(tmp_path, "email,name\nann@example.org,Ann\ncid@Example.COM,Cid\n")
    report = run(path, "--topic", topic.code, "--confirmed")
    assert report["added"] == 2
    assert statuses(account) == {"ann@example.org": "confirmed", "cid@example.com": "confirmed"}
    assert topic.subscriptions.count() == 2


def test_it_reports_each_bad_row_with_its_line_number(
    tmp_path: Path, account: Account, topic: Topic
) -> None:
    path = write(tmp_path, "email\nann@example.org\nnot an address\n\nbob@@example.org\nc@d.org\n")
    report = run(path, "--topic", topic.code, "--confirmed")
    assert [(e["line"], e["value"]) for e in report["errors"]] == [
        (3, "not an address"),
        (5, "bob@@example.org"),
    ]
    assert "@" in report["errors"][0]["error"]
    assert set(statuses(account)) == {"ann@example.org", "c@d.org"}


def test_it_writes_the_errors_to_a_file(tmp_path: Path, account: Account, topic: Topic) -> None:
    path = write(tmp_path, "email\nann@example.org\nnope\n")
    report = run(path, "--topic", topic.code, "--confirmed")
    with open(report["errors_file"], newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["line", "value", "error"]
    assert rows[1][:2] == ["3", "nope"]


def test_it_skips_duplicates_in_the_file(tmp_path: Path, account: Account, topic: Topic) -> None:
    path = write(tmp_path, "email\nann@example.org\nann@example.org\nANN@example.org\n")
    report = run(path, "--topic", topic.code, "--confirmed")
    assert (report["added"], report["skipped_duplicates"]) == (1, 2)


def test_it_skips_suppressed_addresses(tmp_path: Path, account: Account, topic: Topic) -> None:
    actions.suppress(None, "ann@example.org", Suppression.HARD_BOUNCE)
    actions.suppress(account, "cid@example.org")
    path = write(tmp_path, "email\nann@example.org\ncid@example.org\ndee@example.org\n")
    report = run(path, "--topic", topic.code, "--confirmed")
    assert report["skipped_suppressed"] == 2
    assert set(statuses(account)) == {"dee@example.org"}


def test_it_does_not_resubscribe_someone_who_left(
    tmp_path: Path, account: Account, topic: Topic, bob: Subscriber
) -> None:
    actions.unsubscribe_all(bob)
    report = run(write(tmp_path, "email\nbob@example.org\n"), "--topic", topic.code, "--confirmed")
    assert report["skipped_unsubscribed"] == 1
    bob.refresh_from_db()
    assert bob.status == Subscriber.UNSUBSCRIBED
    assert not bob.subscriptions.exists()


def test_it_adds_topics_to_known_subscribers(
    tmp_path: Path, account: Account, bob: Subscriber
) -> None:
    travel = create_topic(account, name="Travel", code="USSTATEBPA_2")
    report = run(write(tmp_path, "email\nbob@example.org\n"), "--topic", travel.code, "--confirmed")
    assert (report["added"], report["existing"]) == (0, 1)
    assert bob.subscriptions.count() == 2


def test_it_confirms_a_pending_subscriber_in_confirmed_mode(
    tmp_path: Path, account: Account, topic: Topic
) -> None:
    Subscriber.objects.create(account=account, email="ann@example.org")
    report = run(write(tmp_path, "email\nann@example.org\n"), "--topic", topic.code, "--confirmed")
    assert (report["added"], report["existing"]) == (0, 1)
    assert statuses(account) == {"ann@example.org": "confirmed"}
    assert topic.subscriptions.count() == 1


def test_it_gives_the_same_report_over_many_chunks(
    tmp_path: Path, account: Account, topic: Topic, bob: Subscriber, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(importer, "CHUNK", 2)
    monkeypatch.setattr(importer, "COPY_CHUNK", 2)
    actions.suppress(account, "sup@example.org")
    lines = ["email", "a@example.org", "bob@example.org", "sup@example.org", "bad", "b@example.org"]
    report = run(write(tmp_path, "\n".join(lines) + "\n"), "--topic", topic.code, "--confirmed")
    counts = (report["added"], report["existing"], report["skipped_suppressed"])
    assert counts == (2, 1, 1)
    assert [e["line"] for e in report["errors"]] == [5]
    assert topic.subscriptions.count() == 3


def test_it_mails_each_address_a_link_in_opt_in_mode(
    tmp_path: Path, account: Account, topic: Topic
) -> None:
    run(write(tmp_path, "email\nann@example.org\n"), "--topic", topic.code, "--opt-in")
    assert statuses(account) == {"ann@example.org": "pending"}
    assert len(queued_to("ann@example.org")) == 1
    assert not topic.subscriptions.exists()


def test_it_reads_a_file_of_bare_addresses(tmp_path: Path, account: Account, topic: Topic) -> None:
    report = run(
        write(tmp_path, "ann@example.org\nbob@example.org\n"), "--topic", topic.code, "--confirmed"
    )
    assert report["added"] == 2


def test_it_refuses_a_file_without_an_email_column(
    tmp_path: Path, account: Account, topic: Topic
) -> None:
    with pytest.raises(CommandError, match="'email' column"):
        run(write(tmp_path, "name,phone\nAnn,1\n"), "--topic", topic.code, "--confirmed")


def test_it_refuses_a_topic_of_another_account(tmp_path: Path, account: Account) -> None:
    other = create_account(code="OTHER", name="Other", sender_address="o@tidings.localhost")
    create_topic(other, name="Foreign", code="OTHER_1")
    with pytest.raises(CommandError, match=r"No topic .*OTHER_1"):
        run(write(tmp_path, "email\na@b.org\n"), "--topic", "OTHER_1", "--confirmed")


def test_it_requires_a_choice_between_confirmed_and_opt_in(
    tmp_path: Path, account: Account, topic: Topic
) -> None:
    with pytest.raises(CommandError, match="--confirmed"):
        run(write(tmp_path, "email\na@b.org\n"), "--topic", topic.code)


def test_it_refuses_a_missing_file(tmp_path: Path, account: Account, topic: Topic) -> None:
    with pytest.raises(CommandError, match="No file"):
        run(tmp_path / "missing.csv", "--topic", topic.code, "--confirmed")


@pytest.mark.parametrize(
    "value",
    [
        "ann@example.org",
        "Ann.Lee+news@Example.ORG",
        "a..b@example.org",
        ".a@example.org",
        "a@example",
        "a@-example.org",
        "a@exa_mple.org",
        '"quoted local"@example.org',
        "jörg@bücher.example",
        "x" * 65 + "@example.org",
        "a@" + "b" * 250 + ".org",
        "a@example.org.",
        "a b@example.org",
        "a@[192.0.2.1]",
    ],
)
def test_it_validates_exactly_like_email_validator(value: str) -> None:
    try:
        expected = validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        expected = None
    try:
        got = check_address(value)
    except EmailNotValidError:
        got = None
    assert got == expected


def test_it_exports_what_import_reads(
    tmp_path: Path, account: Account, topic: Topic, bob: Subscriber
) -> None:
    out = tmp_path / "out.csv"
    call_command(
        "export_subscribers", "--account", "USSTATEBPA", "-o", str(out), stderr=io.StringIO()
    )
    with out.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["email"], r["status"], r["delivery_mode"], r["topics"]) for r in rows] == [
        ("bob@example.org", "confirmed", "immediate", "USSTATEBPA_1")
    ]
    bob.delete()
    assert run(out, "--topic", topic.code, "--confirmed")["added"] == 1


def test_it_leaves_foreign_key_checks_on_after_a_postgresql_import(
    tmp_path: Path, account: Account, topic: Topic
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("COPY and session_replication_role are PostgreSQL's")
    run(write(tmp_path, "email\nann@example.org\n"), "--topic", topic.code, "--confirmed")
    with connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        assert cursor.fetchone()[0] == "origin"
        cursor.execute(
            "SELECT count(*) FROM subscribers_subscription s"
            " JOIN subscribers_subscriber r ON r.id = s.subscriber_id WHERE r.email = %s",
            ["ann@example.org"],
        )
        assert cursor.fetchone()[0] == 1
