"""Upgrades migrate first, while the previous release's workers and web processes still run
(docs/DEPLOY.md): every migration must leave the schema usable by the code written for the
schema just before it. Checked here on a scratch database, one migration at a time, by
introspection: each table and column the previous models use is still there, and each new
column either accepts NULL or has a database default (the previous code's INSERTs do not name it).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.executor import MigrationExecutor

# Tidings' own migrations released before this rule, each unsafe for the code before it (those
# releases stopped everything to migrate). Other apps' migrations (Django's, axes') arrive with a
# dependency upgrade, which DEPLOY.md treats apart. New migrations may not join this list: split
# them into an additive step now and the removal in a later release.
RELEASED_BEFORE_THE_RULE = {
    ("accounts", "0003_sender_identity"),
    ("accounts", "0005_shared_copies"),
    ("archive", "0002_threads_attachments_months"),
    ("bulletins", "0004_publish_error"),
    ("delivery", "0004_send_cursor_alter_send_state_lease"),
    ("lists", "0003_posting_rules"),
    ("lists", "0004_membership_and_policies"),
    ("lists", "0006_sender_authentication"),
    ("lists", "0008_member_bounces"),
    ("subscribers", "0002_subscribe_suppression_bounces"),
    ("topics", "0002_topic_archive_public"),
}


@pytest.fixture
def scratch(django_db_blocker, tmp_path) -> Iterator[BaseDatabaseWrapper]:  # type: ignore[no-untyped-def]
    """An empty database of the same kind as the test database, under an alias of its own."""
    with django_db_blocker.unblock():
        settings = dict(connections["default"].settings_dict)
        if connections["default"].vendor == "postgresql":
            settings["NAME"] = f"{settings['NAME']}_upgrade"
            with connections["default"].cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{settings["NAME"]}"')
                cursor.execute(f'CREATE DATABASE "{settings["NAME"]}"')
        else:
            settings["NAME"] = str(tmp_path / "upgrade.sqlite3")
        connections.settings["upgrade"] = settings
        try:
            yield connections["upgrade"]
        finally:
            connections["upgrade"].close()
            del connections["upgrade"]
            del connections.settings["upgrade"]
            if settings["ENGINE"].endswith("postgresql"):
                with connections["default"].cursor() as cursor:
                    cursor.execute(f'DROP DATABASE IF EXISTS "{settings["NAME"]}"')


def breaks_previous_code(
    connection: BaseDatabaseWrapper, previous_models: list, table_names: set[str]
) -> list[str]:  # type: ignore[type-arg]
    """What the schema now lacks or demands that the models of the step before did not know."""
    problems = []
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
        for model in previous_models:
            table = model._meta.db_table
            if table not in table_names:
                continue
            if table not in tables:
                problems.append(f"table {table} is gone")
                continue
            columns = {
                c.name: c for c in connection.introspection.get_table_description(cursor, table)
            }
            known = {f.column for f in model._meta.local_concrete_fields}
            problems += [f"column {table}.{name} is gone" for name in sorted(known - set(columns))]
            problems += [
                f"new column {table}.{name} is NOT NULL without a database default"
                for name, column in sorted(columns.items())
                if name not in known and not column.null_ok and column.default is None
            ]
    return problems


def test_every_migration_leaves_the_previous_code_working(scratch) -> None:  # type: ignore[no-untyped-def]
    executor = MigrationExecutor(scratch)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes(), clean_start=True)
    state = executor._create_project_state(with_applied_migrations=False)
    checked, unsafe = 0, {}
    for migration, _ in plan:
        previous = [
            m
            for m in state.apps.get_models()
            if m._meta.app_label == migration.app_label and m._meta.managed and not m._meta.proxy
        ]
        tables = {m._meta.db_table for m in previous}
        state = executor.apply_migration(state, migration)
        ours = type(migration).__module__.startswith("tidings.")
        if not ours or (migration.app_label, migration.name) in RELEASED_BEFORE_THE_RULE:
            continue
        checked += 1
        if problems := breaks_previous_code(scratch, previous, tables):
            unsafe[f"{migration.app_label}.{migration.name}"] = problems
    assert checked > 30
    assert unsafe == {}, "\n".join(f"{name}: {'; '.join(p)}" for name, p in unsafe.items())


def test_the_check_catches_a_removed_column_and_a_new_required_one(scratch) -> None:  # type: ignore[no-untyped-def]
    executor = MigrationExecutor(scratch)
    executor.migrate([("topics", "0001_initial")])
    topic = executor.loader.project_state([("topics", "0001_initial")]).apps.get_model(
        "topics", "Topic"
    )
    with scratch.cursor() as cursor:
        cursor.execute("ALTER TABLE topics_topic ADD COLUMN colour varchar(7) NULL")
        cursor.execute("ALTER TABLE topics_topic ADD COLUMN icon varchar(7) DEFAULT 'x' NOT NULL")
        assert breaks_previous_code(scratch, [topic], {"topics_topic"}) == []
        cursor.execute("ALTER TABLE topics_topic ADD COLUMN logo varchar(7) NOT NULL")
        cursor.execute("ALTER TABLE topics_topic DROP COLUMN description")
        assert breaks_previous_code(scratch, [topic], {"topics_topic"}) == [
            "column topics_topic.description is gone",
            "new column topics_topic.logo is NOT NULL without a database default",
        ]
