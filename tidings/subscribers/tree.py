"""The category tree of an account's listed topics, as the subscribe page shows it."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext

from tidings.accounts.models import Account
from tidings.topics.models import Category, Topic


@dataclass
class Node:
    name: str
    ident: str
    topics: list[Topic] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not self.topics and all(child.is_empty() for child in self.children)


def topic_tree(account: Account) -> list[Node]:
    """Return root categories with their listed topics and subcategories; loose topics last."""
    topics = list(
        Topic.objects.filter(account=account, listed=True)
        .prefetch_related("categories")
        .order_by("name", "pk")
    )
    categories = list(Category.objects.filter(account=account).order_by("name", "pk"))
    nodes = {c.pk: Node(c.name, f"c{c.pk}") for c in categories}
    roots: list[Node] = []
    for c in categories:
        parent = nodes.get(c.parent_id) if c.parent_id else None
        (parent.children if parent else roots).append(nodes[c.pk])
    loose = Node(gettext("Other topics"), "other")
    for topic in topics:
        placed = [nodes[c.pk] for c in topic.categories.all() if c.pk in nodes]
        for node in placed or [loose]:
            node.topics.append(topic)
    if loose.topics:
        roots.append(loose)
    return _prune(roots)


def _prune(nodes: list[Node]) -> list[Node]:
    kept = []
    for node in nodes:
        node.children = _prune(node.children)
        if not node.is_empty():
            kept.append(node)
    return kept
