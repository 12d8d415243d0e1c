"""Bulletins in the search index: their plain text, and the full-text index the database offers."""

import django.db.models.deletion
from django.db import migrations, models

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE archive_bulletin_fts USING fts5(subject, text, "
    "content='archive_bulletintext', content_rowid='bulletin_id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER archive_bulletin_fts_insert AFTER INSERT ON archive_bulletintext BEGIN "
    "INSERT INTO archive_bulletin_fts(rowid, subject, text) "
    "VALUES (new.bulletin_id, new.subject, new.text); END",
    "CREATE TRIGGER archive_bulletin_fts_delete AFTER DELETE ON archive_bulletintext BEGIN "
    "INSERT INTO archive_bulletin_fts(archive_bulletin_fts, rowid, subject, text) "
    "VALUES ('delete', old.bulletin_id, old.subject, old.text); END",
    "CREATE TRIGGER archive_bulletin_fts_update AFTER UPDATE ON archive_bulletintext BEGIN "
    "INSERT INTO archive_bulletin_fts(archive_bulletin_fts, rowid, subject, text) "
    "VALUES ('delete', old.bulletin_id, old.subject, old.text); "
    "INSERT INTO archive_bulletin_fts(rowid, subject, text) "
    "VALUES (new.bulletin_id, new.subject, new.text); END",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS archive_bulletin_fts_insert",
    "DROP TRIGGER IF EXISTS archive_bulletin_fts_delete",
    "DROP TRIGGER IF EXISTS archive_bulletin_fts_update",
    "DROP TABLE IF EXISTS archive_bulletin_fts",
]
# Must match tidings.archive.search.PG_BULLETIN_DOCUMENT.
POSTGRES_FORWARD = [
    "CREATE INDEX archive_bulletin_fts ON archive_bulletintext USING GIN "
    "(to_tsvector('english', subject || ' ' || text))",
]
POSTGRES_BACKWARD = ["DROP INDEX IF EXISTS archive_bulletin_fts"]


def run(statements_by_vendor):
    def apply(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return apply


def backfill(apps, schema_editor):
    from tidings.lib.html import html_to_text, markdown_to_html, sanitize

    Bulletin = apps.get_model("bulletins", "Bulletin")
    BulletinText = apps.get_model("archive", "BulletinText")
    for bulletin in Bulletin.objects.using(schema_editor.connection.alias).filter(status__in=["sending", "sent"]).iterator():
        if bulletin.body_format == "html":
            text = html_to_text(sanitize(bulletin.body))
        else:
            text = html_to_text(markdown_to_html(bulletin.body))
        BulletinText.objects.using(schema_editor.connection.alias).create(bulletin_id=bulletin.pk, subject=bulletin.subject, text=text)


class Migration(migrations.Migration):
    dependencies = [
        ("archive", "0003_search_index"),
        ("bulletins", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="BulletinText",
            fields=[
                (
                    "bulletin",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="search_text",
                        serialize=False,
                        to="bulletins.bulletin",
                    ),
                ),
                ("subject", models.CharField(max_length=300)),
                ("text", models.TextField(blank=True)),
            ],
        ),
        migrations.RunPython(
            run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}),
            run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
