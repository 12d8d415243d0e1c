from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from tidings.accounts.models import Account
from tidings.topics.models import Category, Topic


def create_topic(
    account: Account,
    *,
    name: str,
    code: str = "",
    short_name: str = "",
    description: str = "",
    listed: bool = True,
) -> Topic:
    """Create a topic; its code defaults to ACCOUNT_n."""
    if not code:
        code = f"{account.code}_{account.topics.count() + 1}"
    topic = Topic(
        account=account,
        name=name,
        code=code,
        short_name=short_name or name,
        description=description,
        listed=listed,
    )
    topic.full_clean()
    topic.save()
    return topic


TOPIC_FIELDS = (
    "name",
    "short_name",
    "code",
    "description",
    "listed",
    "archive_public",
)


def update_topic(
    topic: Topic, *, categories: list[Category] | None = None, **fields: object
) -> Topic:
    """Change a topic's fields (and categories) after validating them."""
    unknown = set(fields) - set(TOPIC_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown topic fields: {', '.join(sorted(unknown))}.")
    for name, value in fields.items():
        setattr(topic, name, value)
    if not topic.short_name:
        topic.short_name = topic.name
    topic.full_clean()
    with transaction.atomic():
        topic.save()
        if categories is not None:
            if any(c.account_id != topic.account_id for c in categories):
                raise ValidationError("Every category must belong to the topic's account.")
            topic.categories.set(categories)
    return topic


def save_category(
    account: Account, *, name: str, parent: Category | None, category: Category | None = None
) -> Category:
    """Create or rename/move a category; a category cannot sit below itself."""
    category = category or Category(account=account)
    if parent is not None:
        if parent.account_id != account.pk:
            raise ValidationError("The parent must belong to the same account.")
        ancestor: Category | None = parent
        while ancestor is not None:
            if category.pk and ancestor.pk == category.pk:
                raise ValidationError("A category cannot be placed below itself.")
            ancestor = ancestor.parent
    category.name, category.parent = name.strip(), parent
    category.full_clean()
    category.save()
    return category


def delete_category(category: Category) -> None:
    """Delete a category; its subcategories move up to its parent, its topics stay."""
    with transaction.atomic():
        category.children.update(parent=category.parent)
        category.delete()


def delete_topic(topic: Topic) -> None:
    """Delete a topic no bulletin was sent to; sent bulletins keep their topics."""
    if topic.bulletins.exclude(status="draft").exists():
        raise ValidationError("Bulletins were sent to this topic; it can't be deleted.")
    topic.delete()
