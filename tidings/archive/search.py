"""Full-text search of posts: PostgreSQL full-text search or SQLite FTS5, behind one interface."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from tidings.archive.models import Post
from tidings.archive.render import hide_addresses

# Private-use characters mark matches; the text is escaped, then they become <mark>.
START, STOP = "\ue000", "\ue001"
PG_CONFIG = "english"
# The indexed document; the migration's expression index must say exactly the same.
PG_DOCUMENT = (
    f"to_tsvector('{PG_CONFIG}', archive_post.subject || ' ' || archive_post.author_name "
    "|| ' ' || archive_post.body_text)"
)
MAX_QUERY = 200


@dataclass
class Hit:
    post: Post
    subject: SafeString
    snippet: SafeString


@dataclass
class Results:
    hits: list[Hit]
    total: int


def highlighted(text: str, *, reveal: bool) -> SafeString:
    """Return search-engine output escaped, with its match markers as <mark>."""
    if not reveal:
        text = hide_addresses(text)
    html = escape(text).replace(START, "<mark>").replace(STOP, "</mark>")
    return mark_safe(html)  # noqa: S308 - escaped above; only our own tags added


def fts5_query(query: str) -> str:
    """Return the words of a reader's query as an FTS5 query that matches all of them."""
    words = re.findall(r"\w+", query)[:20]
    return " ".join(f'"{w}"' for w in words)


def _placeholders(values: Sequence[object]) -> str:
    return ", ".join(["%s"] * len(values))


def _sqlite(list_ids: list[int], query: str, limit: int, offset: int) -> tuple[list, int]:
    match = fts5_query(query)
    if not match:
        return [], 0
    lists = _placeholders(list_ids)
    where = f"archive_post_fts MATCH %s AND p.mailing_list_id IN ({lists})"
    # CROSS JOIN makes SQLite walk the matches and look each post up, never the reverse
    # (which ran the full-text query once per post of the list: seconds on a big list).
    join = "archive_post_fts CROSS JOIN archive_post p ON p.id = archive_post_fts.rowid"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {join} WHERE {where}", [match, *list_ids])  # noqa: S608
        total = cursor.fetchone()[0]
        # Rank first, then highlight only the page: SQLite would build every match's snippet.
        cursor.execute(
            f"SELECT p.id FROM {join} WHERE {where} "  # noqa: S608
            "ORDER BY archive_post_fts.rank, p.date DESC LIMIT %s OFFSET %s",
            [match, *list_ids, limit, offset],
        )
        ids = [row[0] for row in cursor.fetchall()]
        if not ids:
            return [], total
        cursor.execute(
            "SELECT rowid, highlight(archive_post_fts, 0, %s, %s), "  # noqa: S608
            "snippet(archive_post_fts, 2, %s, %s, '…', 32) FROM archive_post_fts "
            f"WHERE archive_post_fts MATCH %s AND rowid IN ({_placeholders(ids)})",
            [START, STOP, START, STOP, match, *ids],
        )
        by_id = {row[0]: row for row in cursor.fetchall()}
        return [by_id[i] for i in ids if i in by_id], total


def _postgresql(list_ids: list[int], query: str, limit: int, offset: int) -> tuple[list, int]:
    lists = _placeholders(list_ids)
    tsquery = f"websearch_to_tsquery('{PG_CONFIG}', %s)"
    where = f"archive_post.mailing_list_id IN ({lists}) AND {PG_DOCUMENT} @@ {tsquery}"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM archive_post WHERE {where}", [*list_ids, query])  # noqa: S608
        total = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT archive_post.id FROM archive_post WHERE {where} "  # noqa: S608
            f"ORDER BY ts_rank({PG_DOCUMENT}, {tsquery}) DESC, archive_post.date DESC "
            "LIMIT %s OFFSET %s",
            [*list_ids, query, query, limit, offset],
        )
        ids = [row[0] for row in cursor.fetchall()]
        if not ids:
            return [], total
        options = f"StartSel={START}, StopSel={STOP}"
        cursor.execute(
            f"SELECT id, ts_headline('{PG_CONFIG}', subject, {tsquery}, %s), "  # noqa: S608
            f"ts_headline('{PG_CONFIG}', body_text, {tsquery}, %s) "
            f"FROM archive_post WHERE id IN ({_placeholders(ids)})",
            [
                query,
                options + ", HighlightAll=true",
                query,
                options + ", MaxFragments=2, MaxWords=30, MinWords=12",
                *ids,
            ],
        )
        by_id = {row[0]: row for row in cursor.fetchall()}
        return [by_id[i] for i in ids if i in by_id], total


def search_posts(
    list_ids: list[int], query: str, *, limit: int = 10, offset: int = 0, reveal: bool = False
) -> Results:
    """Return the posts of these lists that match the query, best first, highlighted."""
    query = " ".join(query.split())[:MAX_QUERY]
    if not list_ids or not query:
        return Results([], 0)
    engine = _postgresql if connection.vendor == "postgresql" else _sqlite
    rows, total = engine(list_ids, query, limit, offset)
    posts = Post.objects.select_related("mailing_list").in_bulk([row[0] for row in rows])
    hits = [
        Hit(posts[pk], highlighted(subject, reveal=reveal), highlighted(snippet, reveal=reveal))
        for pk, subject, snippet in rows
        if pk in posts
    ]
    return Results(hits, total)


class SearchPage:
    """Adapt search results to Django's pagination interface for the templates."""

    def __init__(self, results: Results, number: int, per_page: int) -> None:
        self.hits = results.hits
        self.total = results.total
        self.number = number
        self.num_pages = max(1, -(-results.total // per_page))

    def has_next(self) -> bool:
        return self.number < self.num_pages

    def has_previous(self) -> bool:
        return self.number > 1

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1
