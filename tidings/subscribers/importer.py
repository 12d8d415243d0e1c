"""Import subscribers from CSV in set-based chunks, and export them back to CSV.

Each address is checked with email-validator (no DNS). Rows that can't be used are reported with
their line number; duplicates, suppressed and earlier-unsubscribed addresses are skipped.

On PostgreSQL a confirmed import COPYs each chunk of addresses into a temporary table and
writes subscribers and subscriptions with a few set-based statements; elsewhere (SQLite, and
opt-in imports, which mail each address) chunks go through multi-row INSERTs.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import IO, Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from email_validator import EmailNotValidError, validate_email

from tidings.accounts.models import Account
from tidings.lib.spreadsheet import SafeWriter, unquote_cell
from tidings.subscribers.actions import send_confirmation
from tidings.subscribers.models import Subscriber, Subscription, Suppression
from tidings.topics.models import Topic

# 5000 rows of 6 parameters stays under SQLite's 32766 parameters per statement.
CHUNK = 5000
COPY_CHUNK = 50_000
# A dot-atom local part of plain ASCII: what email-validator accepts unchanged. Anything else
# (quoted, Unicode, odd dots) goes through the full validator.
SIMPLE_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
EXPORT_COLUMNS = ["email", "status", "delivery_mode", "topics", "created"]


@lru_cache(maxsize=65536)
def _domain(domain: str) -> str:
    """Return the normalized domain, or raise EmailNotValidError; cached, domains repeat."""
    return validate_email(f"a@{domain}", check_deliverability=False).domain


def check_address(value: str) -> str:
    """Return the normalized address, or raise EmailNotValidError saying what is wrong."""
    value = value.strip()
    local, at, domain = value.rpartition("@")
    if at and SIMPLE_LOCAL.fullmatch(local) and len(local) <= 64:
        address = f"{local}@{_domain(domain)}"
        if len(address) <= 254:
            return address
    return validate_email(value, check_deliverability=False).normalized


@dataclass
class ImportReport:
    rows: int = 0
    added: int = 0
    existing: int = 0
    duplicates: int = 0
    suppressed: int = 0
    unsubscribed: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "rows": self.rows,
            "added": self.added,
            "existing": self.existing,
            "skipped_duplicates": self.duplicates,
            "skipped_suppressed": self.suppressed,
            "skipped_unsubscribed": self.unsubscribed,
            "errors": [{"line": n, "value": v, "error": e} for n, v, e in self.errors],
        }


class Unreadable(str):
    """A row the CSV reader could not read (a field over the size limit, say): why, as text."""


def _rows(reader: Any) -> Iterator[list[str] | Unreadable]:
    """Yield the reader's rows; a row it can't read is reported, and reading goes on."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield Unreadable(f"row could not be read: {error}")


def read_rows(f: IO[str]) -> Iterator[tuple[int, str]]:
    """Yield (line number, address) from CSV with an 'email' column, or one address a line.

    A row the reader can't read yields an Unreadable value, which the import reports for that
    line while it imports the others.
    """
    reader = csv.reader(f)
    rows = _rows(reader)
    header = next(rows, None)
    if header is None:
        return
    if isinstance(header, Unreadable):
        raise ValueError(f"The first line {header}.")
    names = [h.strip().lower() for h in header]
    if "email" in names:
        column = names.index("email")
    elif header and "@" in header[0]:
        column = 0
        yield reader.line_num, unquote_cell(header[0])
    else:
        raise ValueError("The first line must name an 'email' column (or be an address).")
    for row in rows:
        if isinstance(row, Unreadable):
            yield reader.line_num, row
            continue
        if not row or not any(cell.strip() for cell in row):
            continue
        yield reader.line_num, unquote_cell(row[column]) if column < len(row) else ""


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _matching(table: str, columns: str, emails: list[str], where: str) -> tuple[str, list[Any]]:
    """Return SQL selecting rows of table whose email is one of emails, using the index."""
    if _postgres():
        # Join an unnested array: one parameter, and an index lookup per address even while
        # the table's statistics still say it is empty (= ANY would scan it whole).
        sql = (
            f"SELECT {columns} FROM unnest(%s::text[]) AS e(email)"  # noqa: S608
            f" JOIN {table} t ON t.email = e.email WHERE {where}"
        )
        return sql, [emails]
    marks = ",".join(["%s"] * len(emails))
    sql = f"SELECT {columns} FROM {table} t WHERE t.email IN ({marks}) AND {where}"  # noqa: S608
    return sql, list(emails)


def import_subscribers(
    account: Account,
    topics: list[Topic],
    rows: Iterable[tuple[int, str]],
    *,
    confirmed: bool,
    progress: Callable[[int], object] | None = None,
) -> ImportReport:
    """Subscribe every good address to the topics; return what happened to each row."""
    if not topics:
        raise ValueError("Choose at least one topic.")
    if any(t.account_id != account.pk for t in topics):
        raise ValueError("Every topic must belong to the account.")
    report = ImportReport()

    # PostgreSQL takes large chunks through COPY; SQLite is bounded by parameters a statement,
    # and so is an opt-in import, which looks its chunk up again to mail each address.
    def write_chunk(emails: list[str]) -> None:
        if copy:
            _copy_chunk(account, topics, emails, report)
        else:
            _import_chunk(account, topics, emails, confirmed, report)

    copy = _postgres() and confirmed
    size = COPY_CHUNK if copy else CHUNK
    seen: set[int] = set()
    chunk: list[str] = []
    for line, value in rows:
        report.rows += 1
        if isinstance(value, Unreadable):
            report.errors.append((line, "", str(value)))
            continue
        try:
            address = check_address(value)
        except EmailNotValidError as exc:
            report.errors.append((line, value, str(exc)))
            continue
        key = hash(address.lower())
        if key in seen:
            report.duplicates += 1
            continue
        seen.add(key)
        chunk.append(address)
        if len(chunk) >= size:
            write_chunk(chunk)
            if progress:
                progress(report.rows)
            chunk = []
    if chunk:
        write_chunk(chunk)
    if progress:
        progress(report.rows)
    return report


def _copy_chunk(
    account: Account, topics: list[Topic], emails: list[str], report: ImportReport
) -> None:
    """Write one chunk of confirmed addresses on PostgreSQL: COPY, then set-based statements."""
    subscriber = Subscriber._meta.db_table
    subscription = Subscription._meta.db_table
    suppression = Suppression._meta.db_table
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS subscriber_import"
            " (email text NOT NULL, sub_id bigint, status text) ON COMMIT DELETE ROWS"
        )
        # Left over from an earlier chunk when the caller's transaction is still open.
        cursor.execute("TRUNCATE subscriber_import")
        with cursor.cursor.copy("COPY subscriber_import (email) FROM STDIN") as copy:
            # Text format: validated addresses hold no tab or newline; backslashes are doubled.
            copy.write("".join(e.replace("\\", "\\\\") + "\n" for e in emails))
        cursor.execute("ANALYZE subscriber_import")
        cursor.execute(
            "DELETE FROM subscriber_import i WHERE EXISTS (SELECT 1"  # noqa: S608
            f" FROM {suppression} x WHERE x.email = i.email"
            " AND (x.account_id IS NULL OR x.account_id = %s))",
            [account.pk],
        )
        suppressed = cursor.rowcount
        # A correlated lookup per staged row uses the unique index whatever the table's
        # statistics say (they lag far behind while an import grows the table).
        cursor.execute(
            "UPDATE subscriber_import i SET (sub_id, status) ="  # noqa: S608
            f" (SELECT s.id, s.status FROM {subscriber} s"
            "  WHERE s.account_id = %s AND s.email = i.email)",
            [account.pk],
        )
        cursor.execute("DELETE FROM subscriber_import WHERE status = %s", [Subscriber.UNSUBSCRIBED])
        unsubscribed = cursor.rowcount  # they left; an import does not sign them up again
        cursor.execute(
            f"UPDATE {subscriber} s SET status = %s, confirmed_at = %s"  # noqa: S608
            " FROM subscriber_import i WHERE s.id = i.sub_id AND i.status = %s",
            [Subscriber.CONFIRMED, now, Subscriber.PENDING],
        )
        checked = _skip_fk_checks(cursor, account, topics)
        cursor.execute("SELECT count(*) FROM subscriber_import WHERE sub_id IS NULL")
        unknown = cursor.fetchone()[0]
        topic_ids = [t.pk for t in topics]
        cursor.execute(
            f"WITH added AS (INSERT INTO {subscriber}"  # noqa: S608
            " (account_id, email, status, created, confirmed_at, delivery_mode, confirm_nonce)"
            " SELECT %s, email, %s, %s, %s, %s, '' FROM subscriber_import WHERE sub_id IS NULL"
            " ON CONFLICT DO NOTHING RETURNING id),"
            " targets AS (SELECT id FROM added"
            "  UNION ALL SELECT sub_id FROM subscriber_import WHERE sub_id IS NOT NULL),"
            f" subscribed AS (INSERT INTO {subscription} (subscriber_id, topic_id, created)"
            "  SELECT id, t, %s FROM targets, unnest(%s::bigint[]) AS t"
            "  ON CONFLICT DO NOTHING)"
            " SELECT count(*) FROM added",
            [account.pk, Subscriber.CONFIRMED, now, now, Subscriber.IMMEDIATE, now, topic_ids],
        )
        added = cursor.fetchone()[0]
        if checked:
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
        if added < unknown:
            # Another request added some of these meanwhile (ON CONFLICT skipped them).
            cursor.execute(
                f"INSERT INTO {subscription} (subscriber_id, topic_id, created)"  # noqa: S608
                f" SELECT s.id, t, %s FROM subscriber_import i JOIN {subscriber} s"
                " ON s.account_id = %s AND s.email = i.email, unnest(%s::bigint[]) AS t"
                " WHERE i.sub_id IS NULL AND s.status <> %s ON CONFLICT DO NOTHING",
                [now, account.pk, topic_ids, Subscriber.UNSUBSCRIBED],
            )
    report.suppressed += suppressed
    report.unsubscribed += unsubscribed
    report.added += added
    report.existing += len(emails) - suppressed - unsubscribed - added


def _skip_fk_checks(cursor: Any, account: Account, topics: list[Topic]) -> bool:
    """Take, once, the locks the foreign-key triggers would take per row; then turn them off.

    The triggers check every inserted row's account, topic and subscriber with a row lock and a
    WAL record each: half the time of an import. The rows referenced here are already locked
    FOR KEY SHARE below, so nothing they point to can go away before commit, and the inserts
    only use ids just read or returned in this transaction. Needs a role allowed to set
    session_replication_role (a superuser, or GRANT SET ON PARAMETER); otherwise the triggers
    stay on and the import is only slower. Returns whether they were turned off.
    """
    if not settings.IMPORT_SKIP_FK_CHECKS:
        return False
    account_table = Account._meta.db_table
    cursor.execute(
        f"SELECT 1 FROM {account_table} WHERE id = %s FOR KEY SHARE",  # noqa: S608
        [account.pk],
    )
    cursor.execute(
        f"SELECT 1 FROM {Topic._meta.db_table} WHERE id = ANY(%s) FOR KEY SHARE",  # noqa: S608
        [[t.pk for t in topics]],
    )
    cursor.execute(
        f"SELECT 1 FROM {Subscriber._meta.db_table} s JOIN subscriber_import i"  # noqa: S608
        " ON s.id = i.sub_id FOR KEY SHARE OF s"
    )
    try:
        with transaction.atomic():
            cursor.execute("SET LOCAL session_replication_role = replica")
    except DatabaseError:
        return False
    return True


def _import_chunk(
    account: Account, topics: list[Topic], emails: list[str], confirmed: bool, report: ImportReport
) -> None:
    subscriber = Subscriber._meta.db_table
    suppression = Suppression._meta.db_table
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with transaction.atomic(), connection.cursor() as cursor:
        sql, params = _matching(
            suppression, "t.email", emails, "(t.account_id IS NULL OR t.account_id = %s)"
        )
        cursor.execute(sql, [*params, account.pk])
        blocked = {row[0] for row in cursor.fetchall()}
        sql, params = _matching(subscriber, "t.email, t.status, t.id", emails, "t.account_id = %s")
        cursor.execute(sql, [*params, account.pk])
        known = {email: (status, ident) for email, status, ident in cursor.fetchall()}
        wanted = []
        for email in emails:
            if email in blocked:
                report.suppressed += 1
            elif known.get(email, ("",))[0] == Subscriber.UNSUBSCRIBED:
                report.unsubscribed += 1  # they left; an import does not sign them up again
            else:
                wanted.append(email)
        new = [e for e in wanted if e not in known]
        report.added += len(new)
        report.existing += len(wanted) - len(new)
        ids = [known[e][1] for e in wanted if e in known]
        if new:
            ids += _insert_subscribers(cursor, account, new, confirmed, now)
        if confirmed:
            pending = [known[e][1] for e in wanted if known.get(e, ("",))[0] == Subscriber.PENDING]
            if pending:
                Subscriber.objects.filter(id__in=pending).update(
                    status=Subscriber.CONFIRMED, confirmed_at=timezone.now()
                )
            for topic in topics:
                _insert_subscriptions(cursor, topic, ids, now)
    if not confirmed:
        # Each must opt in: a confirmation link per address (at most one per interval).
        for row in Subscriber.objects.filter(account=account, email__in=wanted).select_related(
            "account"
        ):
            if row.status == Subscriber.CONFIRMED:
                for topic in topics:
                    Subscription.objects.get_or_create(subscriber=row, topic=topic)
            else:
                send_confirmation(row, topics)


def _insert_subscribers(
    cursor: Any, account: Account, emails: list[str], confirmed: bool, now: object
) -> list[int]:
    """Insert new subscribers in one statement; return their ids."""
    table = Subscriber._meta.db_table
    status = Subscriber.CONFIRMED if confirmed else Subscriber.PENDING
    columns = "account_id, email, status, created, confirmed_at, delivery_mode, confirm_nonce"
    confirmed_at = now if confirmed else None
    if _postgres():
        cursor.execute(
            f"INSERT INTO {table} ({columns})"  # noqa: S608
            " SELECT %s, e, %s, %s, %s, %s, '' FROM unnest(%s::text[]) AS e"
            " ON CONFLICT DO NOTHING RETURNING id",
            [account.pk, status, now, confirmed_at, Subscriber.IMMEDIATE, emails],
        )
    else:
        values = ",".join(["(%s, %s, %s, %s, %s, %s, '')"] * len(emails))
        params: list[object] = []
        for email in emails:
            params += [account.pk, email, status, now, confirmed_at, Subscriber.IMMEDIATE]
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES {values}"  # noqa: S608
            " ON CONFLICT DO NOTHING RETURNING id",
            params,
        )
    return [row[0] for row in cursor.fetchall()]


def _insert_subscriptions(cursor: Any, topic: Topic, ids: list[int], now: object) -> None:
    table = Subscription._meta.db_table
    if not ids:
        return
    if _postgres():
        cursor.execute(
            f"INSERT INTO {table} (subscriber_id, topic_id, created)"  # noqa: S608
            " SELECT u, %s, %s FROM unnest(%s::bigint[]) AS u ON CONFLICT DO NOTHING",
            [topic.pk, now, ids],
        )
        return
    values = ",".join(["(%s, %s, %s)"] * len(ids))
    params: list[object] = []
    for ident in ids:
        params += [ident, topic.pk, now]
    cursor.execute(
        f"INSERT INTO {table} (subscriber_id, topic_id, created) VALUES {values}"  # noqa: S608
        " ON CONFLICT DO NOTHING",
        params,
    )


def export_subscribers(
    account: Account, out: IO[str], *, topics: list[Topic] | None = None, batch: int = 2000
) -> int:
    """Write the account's subscribers as CSV (the columns import reads); return how many."""
    writer = SafeWriter(out)
    count = -1
    for row in export_rows(account, topics=topics, batch=batch):
        writer.writerow(row)
        count += 1
    return count


def export_rows(
    account: Account, *, topics: list[Topic] | None = None, batch: int = 2000
) -> Iterator[list[str]]:
    """Yield the header, then one row per subscriber, reading the table in keyset batches."""
    yield EXPORT_COLUMNS
    base = Subscriber.objects.filter(account=account).order_by("id")
    if topics:
        base = base.filter(subscriptions__topic__in=topics).distinct()
    last = 0
    while True:
        page = list(
            base.filter(id__gt=last).values_list(
                "id", "email", "status", "delivery_mode", "created"
            )[:batch]
        )
        if not page:
            return
        codes: dict[int, list[str]] = {}
        for sid, code in (
            Subscription.objects.filter(subscriber_id__in=[p[0] for p in page])
            .order_by("topic__code")
            .values_list("subscriber_id", "topic__code")
        ):
            codes.setdefault(sid, []).append(code)
        for sid, email, status, mode, created in page:
            yield [email, status, mode, " ".join(codes.get(sid, [])), created.isoformat()]
        last = page[-1][0]
