"""Backfill threads, and build the full-text index the database offers (FTS5 or PostgreSQL)."""

from django.db import migrations
from django.db.models import F

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE archive_post_fts USING fts5(subject, author_name, body_text, "
    "content='archive_post', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER archive_post_fts_insert AFTER INSERT ON archive_post BEGIN "
    "INSERT INTO archive_post_fts(rowid, subject, author_name, body_text) "
    "VALUES (new.id, new.subject, new.author_name, new.body_text); END",
    "CREATE TRIGGER archive_post_fts_delete AFTER DELETE ON archive_post BEGIN "
    "INSERT INTO archive_post_fts(archive_post_fts, rowid, subject, author_name, body_text) "
    "VALUES ('delete', old.id, old.subject, old.author_name, old.body_text); END",
    "CREATE TRIGGER archive_post_fts_update AFTER UPDATE OF subject, author_name, body_text "
    "ON archive_post BEGIN "
    "INSERT INTO archive_post_fts(archive_post_fts, rowid, subject, author_name, body_text) "
    "VALUES ('delete', old.id, old.subject, old.author_name, old.body_text); "
    "INSERT INTO archive_post_fts(rowid, subject, author_name, body_text) "
    "VALUES (new.id, new.subject, new.author_name, new.body_text); END",
    "INSERT INTO archive_post_fts(archive_post_fts) VALUES ('rebuild')",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS archive_post_fts_insert",
    "DROP TRIGGER IF EXISTS archive_post_fts_delete",
    "DROP TRIGGER IF EXISTS archive_post_fts_update",
    "DROP TABLE IF EXISTS archive_post_fts",
]
# PostgreSQL: replaced by a stored tsvector column in 0005_post_search_vector.
POSTGRES_FORWARD = [
    "CREATE INDEX archive_post_fts ON archive_post USING GIN "
    "(to_tsvector('english', subject || ' ' || author_name || ' ' || body_text))",
]
POSTGRES_BACKWARD = ["DROP INDEX IF EXISTS archive_post_fts"]


def run(statements_by_vendor):
    def apply(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return apply


def backfill_threads(apps, schema_editor):
    Post = apps.get_model("archive", "Post")
    Post.objects.using(schema_editor.connection.alias).filter(thread__isnull=True).update(thread=F("pk"))


class Migration(migrations.Migration):
    dependencies = [("archive", "0002_threads_attachments_months")]

    operations = [
        migrations.RunPython(backfill_threads, migrations.RunPython.noop),
        migrations.RunPython(
            run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}),
            run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}),
        ),
    ]
