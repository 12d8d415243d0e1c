"""PostgreSQL: keep each post's tsvector in a stored column, so ranking never recomputes it.

Ranking a page of matches with ts_rank(to_tsvector(...)) parsed every candidate's body again;
a stored generated column is parsed once, when the post is written. SQLite's FTS5 is unchanged.
"""

from django.db import migrations

# Must match tidings.archive.search.PG_DOCUMENT.
POSTGRES_FORWARD = [
    "ALTER TABLE archive_post ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
    "(to_tsvector('english', subject || ' ' || author_name || ' ' || body_text)) STORED",
    "CREATE INDEX archive_post_search ON archive_post USING GIN (search_vector)",
    "DROP INDEX IF EXISTS archive_post_fts",
    # The table was rewritten: let the planner know the new column (it picks GIN or not by it).
    "ANALYZE archive_post",
]
POSTGRES_BACKWARD = [
    "CREATE INDEX IF NOT EXISTS archive_post_fts ON archive_post USING GIN "
    "(to_tsvector('english', subject || ' ' || author_name || ' ' || body_text))",
    "DROP INDEX IF EXISTS archive_post_search",
    "ALTER TABLE archive_post DROP COLUMN IF EXISTS search_vector",
]


def run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [("archive", "0004_bulletin_text")]

    operations = [migrations.RunPython(run(POSTGRES_FORWARD), run(POSTGRES_BACKWARD))]
