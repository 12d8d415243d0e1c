"""The account's categories as a tree, read in one query."""

from __future__ import annotations

from django.db.models import Count

from tidings.accounts.models import Account
from tidings.topics.models import Category


def category_tree(account: Account) -> list[tuple[Category, int]]:
    """Return (category, depth) pairs in tree order: each category before its children."""
    rows = list(
        Category.objects.filter(account=account)
        .annotate(topic_count=Count("topics"))
        .order_by("name")
    )
    children: dict[int | None, list[Category]] = {}
    for row in rows:
        children.setdefault(row.parent_id, []).append(row)
    ordered: list[tuple[Category, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for row in children.get(parent, []):
            ordered.append((row, depth))
            walk(row.pk, depth + 1)

    walk(None, 0)
    return ordered
