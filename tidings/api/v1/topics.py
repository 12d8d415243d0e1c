"""Topics and categories: viewers read; topic admins write."""

from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.pagination import paginate

from tidings.accounts.models import Account, Membership
from tidings.api.v1.common import (
    Id,
    Ids,
    Page,
    PathId,
    account_of,
    by_ids,
    get_or_404,
    line,
    responses,
    text,
)
from tidings.topics.actions import (
    create_topic,
    delete_category,
    delete_topic,
    save_category,
    update_topic,
)
from tidings.topics.models import Category, Topic

router = Router(tags=["topics"])


class TopicOut(Schema):
    id: int
    code: str
    name: str
    short_name: str
    description: str
    listed: bool
    archive_public: bool
    categories: list[int]
    subscribers: int

    @staticmethod
    def resolve_categories(obj: Topic) -> list[int]:
        return [c.pk for c in obj.categories.all()]

    @staticmethod
    def resolve_subscribers(obj: Topic) -> int:
        return getattr(obj, "subscriber_count", 0)


class TopicIn(Schema):
    name: line(200, 1)  # type: ignore[valid-type]
    code: text(64) = ""  # type: ignore[valid-type]
    short_name: line(100) = ""  # type: ignore[valid-type]
    description: text(10_000) = ""  # type: ignore[valid-type]
    listed: bool = True
    archive_public: bool = True
    categories: Ids = []


class TopicPatch(Schema):
    name: line(200, 1) | None = None  # type: ignore[valid-type]
    short_name: line(100) | None = None  # type: ignore[valid-type]
    description: text(10_000) | None = None  # type: ignore[valid-type]
    listed: bool | None = None
    archive_public: bool | None = None
    categories: Ids | None = None


class CategoryOut(Schema):
    id: int
    name: str
    parent: int | None

    @staticmethod
    def resolve_parent(obj: Category) -> int | None:
        return obj.parent_id


class CategoryIn(Schema):
    name: line(200, 1)  # type: ignore[valid-type]
    parent: Id | None = None


def topics_of(account: Account) -> QuerySet[Topic]:
    return (
        Topic.objects.filter(account=account)
        .annotate(subscriber_count=Count("subscriptions"))
        .prefetch_related("categories")
        .order_by("id")
    )


def topic_out(topic: Topic) -> Topic:
    """Reload a topic the way the list endpoint shows it."""
    return topics_of(topic.account).get(pk=topic.pk)


@router.get("/topics", response=responses(200, list[TopicOut]), summary="List topics")
@paginate(Page)
def list_topics(request: HttpRequest) -> QuerySet[Topic]:
    return topics_of(account_of(request))


@router.post("/topics", response=responses(201, TopicOut), summary="Create a topic")
def add_topic(request: HttpRequest, payload: TopicIn) -> Status[Topic]:
    account = account_of(request, Membership.TOPIC_ADMIN)
    categories = by_ids(account.categories.all(), payload.categories, "category")
    with transaction.atomic():
        topic = create_topic(
            account,
            name=payload.name,
            code=payload.code,
            short_name=payload.short_name,
            description=payload.description,
            listed=payload.listed,
        )
        update_topic(topic, categories=categories, archive_public=payload.archive_public)
    return Status(201, topic_out(topic))


@router.get("/topics/{topic_id}", response=responses(200, TopicOut), summary="Read a topic")
def get_topic(request: HttpRequest, topic_id: PathId) -> Topic:
    return get_or_404(topics_of(account_of(request)), "topic", pk=topic_id)


@router.patch("/topics/{topic_id}", response=responses(200, TopicOut), summary="Change a topic")
def change_topic(request: HttpRequest, topic_id: PathId, payload: TopicPatch) -> Topic:
    account = account_of(request, Membership.TOPIC_ADMIN)
    topic = get_or_404(account.topics.all(), "topic", pk=topic_id)
    changes = payload.dict(exclude_unset=True, exclude_none=True)
    category_ids = changes.pop("categories", None)
    categories = None
    if category_ids is not None:
        categories = by_ids(account.categories.all(), category_ids, "category")
    update_topic(topic, categories=categories, **changes)
    return topic_out(topic)


@router.delete("/topics/{topic_id}", response=responses(204, None), summary="Delete a topic")
def remove_topic(request: HttpRequest, topic_id: PathId) -> Status[None]:
    account = account_of(request, Membership.TOPIC_ADMIN)
    delete_topic(get_or_404(account.topics.all(), "topic", pk=topic_id))
    return Status(204, None)


@router.get("/categories", response=responses(200, list[CategoryOut]), summary="List categories")
@paginate(Page)
def list_categories(request: HttpRequest) -> QuerySet[Category]:
    return account_of(request).categories.order_by("id")


@router.post("/categories", response=responses(201, CategoryOut), summary="Create a category")
def add_category(request: HttpRequest, payload: CategoryIn) -> Status[Category]:
    account = account_of(request, Membership.TOPIC_ADMIN)
    parent = None
    if payload.parent is not None:
        parent = by_ids(account.categories.all(), [payload.parent], "category")[0]
    return Status(201, save_category(account, name=payload.name, parent=parent))


@router.get(
    "/categories/{category_id}", response=responses(200, CategoryOut), summary="Read a category"
)
def get_category(request: HttpRequest, category_id: PathId) -> Category:
    return get_or_404(account_of(request).categories.all(), "category", pk=category_id)


@router.delete(
    "/categories/{category_id}", response=responses(204, None), summary="Delete a category"
)
def remove_category(request: HttpRequest, category_id: PathId) -> Status[None]:
    account = account_of(request, Membership.TOPIC_ADMIN)
    delete_category(get_or_404(account.categories.all(), "category", pk=category_id))
    return Status(204, None)
