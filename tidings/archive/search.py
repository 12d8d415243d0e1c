"""Full-text search of posts and bulletins: PostgreSQL full-text search or SQLite FTS5.

One interface over both: `search_posts()` for lists, `search_account()` for an account's lists
and topics. Both stay fast on big archives by never touching every match: they take at most
RANKED + 1 matches, newest first, rank those, and report "more than RANKED" past that.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Prefetch
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from tidings.archive.models import Post
from tidings.archive.personal import neutralize_marked, neutralize_text
from tidings.archive.render import hide_addresses
from tidings.bulletins.models import Bulletin
from tidings.topics.models import Topic

# Private-use characters mark matches; the text is escaped, then they become <mark>.
START, STOP = "\ue000", "\ue001"
PG_CONFIG = "english"
# The indexed documents; the migrations say exactly the same. A post's is a stored column
# (archive/0005), so ranking reads it rather than parsing the post again.
PG_DOCUMENT = "archive_post.search_vector"
PG_BULLETIN_DOCUMENT = (
    f"to_tsvector('{PG_CONFIG}', archive_bulletintext.subject || ' ' || archive_bulletintext.text)"
)
MAX_QUERY = 200
# Matches ranked per search: the newest this many, best first. Ranking or counting every match
# of a common word costs time in proportion to the archive; this keeps a search constant.
RANKED = 1000

POST, BULLETIN = "post", "bulletin"


@dataclass
class Hit:
    post: Post | None
    subject: SafeString
    snippet: SafeString
    bulletin: Bulletin | None = None

    @property
    def url(self) -> str:
        if self.bulletin is not None:
            return reverse("bulletins:web_copy", args=[self.bulletin.pk])
        assert self.post is not None
        return reverse("archive:post", args=[self.post.mailing_list.name, self.post.slug])

    @property
    def date(self) -> datetime | None:
        return self.bulletin.published_at if self.bulletin is not None else self.post.date  # type: ignore[union-attr]

    @property
    def author(self) -> str:
        if self.bulletin is not None:
            return self.bulletin.account.name
        return neutralize_text(self.post.author_name) or "someone"  # type: ignore[union-attr]

    @property
    def where(self) -> str:
        """Name the list, or the bulletin's topics, the hit comes from."""
        if self.bulletin is not None:
            return ", ".join(t.name for t in self.bulletin.topics.all())
        return self.post.mailing_list.name  # type: ignore[union-attr]


@dataclass
class Results:
    hits: list[Hit]
    # Matches counted up to RANKED + 1: past RANKED, say "more than RANKED".
    total: int

    @property
    def more(self) -> bool:
        return self.total > RANKED


# A match found, before ranking across kinds: ((rank, -id), kind, id), best first.
Candidate = tuple[tuple[float, int], str, int]


def highlighted(text: str, *, reveal: bool) -> SafeString:
    """Return search-engine output escaped, with its match markers as <mark>: personal links
    neutralized (the engine's excerpt is of the stored text), addresses hidden unless revealed."""
    text = neutralize_marked(text, START, STOP)
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


# Each engine has two halves: candidates (ids and rank of at most RANKED + 1 matches, newest
# first, ranked only among themselves) and highlights (subject and snippet of one page).


def _sqlite_candidates(kind: str, scope: list[int], query: str) -> list[Candidate]:
    match = fts5_query(query)
    if not match:
        return []
    if kind == POST:
        # CROSS JOIN makes SQLite walk the matches newest first (rowid order) and look each
        # post up, never the reverse; it stops after RANKED + 1 of this list's matches.
        sql = (
            "SELECT p.id, archive_post_fts.rank FROM archive_post_fts "  # noqa: S608
            "CROSS JOIN archive_post p ON p.id = archive_post_fts.rowid "
            f"WHERE archive_post_fts MATCH %s AND p.mailing_list_id IN ({_placeholders(scope)}) "
            "ORDER BY archive_post_fts.rowid DESC LIMIT %s"
        )
    else:
        sql = (
            "SELECT b.id, archive_bulletin_fts.rank "  # noqa: S608
            "FROM archive_bulletin_fts "
            "CROSS JOIN bulletins_bulletin b ON b.id = archive_bulletin_fts.rowid "
            "WHERE archive_bulletin_fts MATCH %s AND b.id IN (SELECT bulletin_id FROM "
            f"bulletins_bulletin_topics WHERE topic_id IN ({_placeholders(scope)})) "
            "ORDER BY archive_bulletin_fts.rowid DESC LIMIT %s"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, [match, *scope, RANKED + 1])
        # bm25: lower is better; ties go to the newer (higher id).
        return [((rank, -pk), kind, pk) for pk, rank in cursor.fetchall()]


def _sqlite_highlights(kind: str, ids: list[int], query: str) -> dict[int, tuple[str, str]]:
    table = "archive_post_fts" if kind == POST else "archive_bulletin_fts"
    body = 2 if kind == POST else 1
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT rowid, highlight({table}, 0, %s, %s), "  # noqa: S608 - our own names
            f"snippet({table}, {body}, %s, %s, '…', 32) FROM {table} "
            f"WHERE {table} MATCH %s AND rowid IN ({_placeholders(ids)})",
            [START, STOP, START, STOP, fts5_query(query), *ids],
        )
        return {row[0]: (row[1], row[2]) for row in cursor.fetchall()}


def _postgresql_candidates(kind: str, scope: list[int], query: str) -> list[Candidate]:
    tsquery = f"websearch_to_tsquery('{PG_CONFIG}', %s)"
    if kind == POST:
        sql = (
            f"SELECT id, ts_rank({PG_DOCUMENT}, {tsquery}) FROM archive_post "  # noqa: S608
            f"WHERE mailing_list_id IN ({_placeholders(scope)}) AND {PG_DOCUMENT} @@ {tsquery} "
            "ORDER BY id DESC LIMIT %s"
        )
    else:
        sql = (
            f"SELECT b.id, ts_rank({PG_BULLETIN_DOCUMENT}, {tsquery}) "  # noqa: S608
            "FROM archive_bulletintext JOIN bulletins_bulletin b "
            "ON b.id = archive_bulletintext.bulletin_id WHERE b.id IN (SELECT bulletin_id FROM "
            f"bulletins_bulletin_topics WHERE topic_id IN ({_placeholders(scope)})) "
            f"AND {PG_BULLETIN_DOCUMENT} @@ {tsquery} ORDER BY b.id DESC LIMIT %s"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, [query, *scope, query, RANKED + 1])
        # ts_rank: higher is better; ties go to the newer (higher id).
        return [((-rank, -pk), kind, pk) for pk, rank in cursor.fetchall()]


def _postgresql_highlights(kind: str, ids: list[int], query: str) -> dict[int, tuple[str, str]]:
    tsquery = f"websearch_to_tsquery('{PG_CONFIG}', %s)"
    options = f"StartSel={START}, StopSel={STOP}"
    if kind == POST:
        table, key, body = "archive_post", "id", "body_text"
    else:
        table, key, body = "archive_bulletintext", "bulletin_id", "text"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {key}, ts_headline('{PG_CONFIG}', subject, {tsquery}, %s), "  # noqa: S608
            f"ts_headline('{PG_CONFIG}', {body}, {tsquery}, %s) "
            f"FROM {table} WHERE {key} IN ({_placeholders(ids)})",
            [
                query,
                options + ", HighlightAll=true",
                query,
                options + ", MaxFragments=2, MaxWords=30, MinWords=12",
                *ids,
            ],
        )
        return {row[0]: (row[1], row[2]) for row in cursor.fetchall()}


def search(
    query: str,
    *,
    list_ids: list[int],
    topic_ids: list[int] | None = None,
    limit: int = 10,
    offset: int = 0,
    reveal: bool = False,
) -> Results:
    """Return the posts of these lists and bulletins of these topics that match, best first."""
    query = " ".join(query.split())[:MAX_QUERY]
    if not query:
        return Results([], 0)
    if connection.vendor == "postgresql":
        candidates_of, highlights_of = _postgresql_candidates, _postgresql_highlights
    else:
        candidates_of, highlights_of = _sqlite_candidates, _sqlite_highlights
    found: list[Candidate] = []
    for kind, scope in ((POST, list_ids), (BULLETIN, topic_ids or [])):
        if scope:
            found += candidates_of(kind, scope, query)
    found.sort()
    total = len(found)
    page = found[:RANKED][offset : offset + limit]
    ids = {kind: [pk for _, k, pk in page if k == kind] for kind in (POST, BULLETIN)}
    marked = {kind: highlights_of(kind, ids[kind], query) if ids[kind] else {} for kind in ids}
    posts = Post.objects.select_related("mailing_list").defer("raw").in_bulk(ids[POST])
    # Name only the topics searched: a members-only topic stays unnamed to others.
    shown = Prefetch("topics", queryset=Topic.objects.filter(pk__in=topic_ids or []))
    bulletins = (
        Bulletin.objects.select_related("account").prefetch_related(shown).in_bulk(ids[BULLETIN])
        if ids[BULLETIN]
        else {}
    )
    hits = []
    for _, kind, pk in page:
        if pk not in marked[kind]:
            continue
        subject, snippet = (highlighted(part, reveal=reveal) for part in marked[kind][pk])
        if kind == POST and pk in posts:
            hits.append(Hit(posts[pk], subject, snippet))
        elif kind == BULLETIN and pk in bulletins:
            hits.append(Hit(None, subject, snippet, bulletin=bulletins[pk]))
    return Results(hits, total)


def search_posts(
    list_ids: list[int], query: str, *, limit: int = 10, offset: int = 0, reveal: bool = False
) -> Results:
    """Return the posts of these lists that match the query, best first, highlighted."""
    return search(query, list_ids=list_ids, limit=limit, offset=offset, reveal=reveal)


class SearchPage:
    """Adapt search results to Django's pagination interface for the templates."""

    def __init__(self, results: Results, number: int, per_page: int) -> None:
        self.hits = results.hits
        self.total = results.total
        self.more = results.more
        self.ranked = RANKED
        self.number = number
        self.num_pages = max(1, -(-min(results.total, RANKED) // per_page))

    def has_next(self) -> bool:
        return self.number < self.num_pages

    def has_previous(self) -> bool:
        return self.number > 1

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1
