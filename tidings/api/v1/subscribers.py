"""Subscribers and their subscriptions: viewers read; topic admins write."""

from datetime import datetime
from typing import Literal

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate

from tidings.accounts.models import Account, Membership
from tidings.api.v1.common import (
    Email,
    Id,
    Ids,
    Page,
    PathId,
    account_of,
    by_ids,
    get_or_404,
    responses,
    text,
)
from tidings.lib.mail import normalize
from tidings.subscribers import actions
from tidings.subscribers.models import Subscriber, Subscription

router = Router(tags=["subscribers"])

SubscriberStatus = Literal["pending", "confirmed", "unsubscribed"]
DeliveryMode = Literal["immediate", "daily", "weekly"]
# The languages of settings.LANGUAGES; "" is the account's.
Language = Literal["", "en", "es", "sw"]


class SubscriberOut(Schema):
    id: int
    email: str
    status: SubscriberStatus
    delivery_mode: DeliveryMode
    distribution_list: bool
    language: Language
    created: datetime
    confirmed_at: datetime | None
    topics: list[int]

    @staticmethod
    def resolve_topics(obj: Subscriber) -> list[int]:
        return sorted(s.topic_id for s in obj.subscriptions.all())


class SubscriberIn(Schema):
    email: Email  # type: ignore[valid-type]
    topics: Ids = []
    confirmed: bool = False
    # The language of its mail (a new address's; "" the account's).
    language: Language = ""


class SubscribeOut(Schema):
    result: str
    subscriber: SubscriberOut | None


class SubscriberPatch(Schema):
    delivery_mode: DeliveryMode | None = None
    # A shared address (a distribution list): its bulletins carry no personal links.
    distribution_list: bool | None = None
    language: Language | None = None


class SubscriptionIn(Schema):
    topic: Id


class SubscriberFilter(Schema):
    status: SubscriberStatus | None = None
    email: text(254) | None = None  # type: ignore[valid-type]
    topic: Id | None = None


def subscribers_of(account: Account) -> QuerySet[Subscriber]:
    subscriptions = Subscription.objects.only("id", "subscriber_id", "topic_id")
    return (
        Subscriber.objects.filter(account=account)
        .prefetch_related(Prefetch("subscriptions", queryset=subscriptions))
        .order_by("id")
    )


def subscriber_out(account: Account, pk: int) -> Subscriber:
    return subscribers_of(account).get(pk=pk)


@router.get(
    "/subscribers", response=responses(200, list[SubscriberOut]), summary="List subscribers"
)
@paginate(Page)
def list_subscribers(
    request: HttpRequest, filters: Query[SubscriberFilter]
) -> QuerySet[Subscriber]:
    subscribers = subscribers_of(account_of(request))
    if filters.status:
        subscribers = subscribers.filter(status=filters.status)
    if filters.email:
        subscribers = subscribers.filter(email__iexact=filters.email.strip())
    if filters.topic:
        subscribers = subscribers.filter(subscriptions__topic_id=filters.topic)
    return subscribers


@router.post(
    "/subscribers",
    response=responses(200, SubscribeOut),
    summary="Subscribe an address to topics",
    description="With `confirmed: true` the address is subscribed at once (the account vouches "
    "for it). Otherwise the account's opt-in rule applies: with double opt-in a confirmation "
    "link is mailed and the subscriber stays pending until it is used.",
)
def add_subscriber(request: HttpRequest, payload: SubscriberIn) -> SubscribeOut:
    account = account_of(request, Membership.TOPIC_ADMIN)
    topics = by_ids(account.topics.all(), payload.topics, "topic")
    subscriber: Subscriber | None
    if payload.confirmed:
        subscriber = actions.subscribe(account, payload.email, topics, confirmed=True)
        if payload.language:
            actions.set_language(subscriber, payload.language)
        result = "subscribed"
    else:
        result = actions.request_subscription(
            account, payload.email, topics, language=payload.language
        )
        subscriber = account.subscribers.filter(email=normalize(payload.email)).first()
    out = subscriber_out(account, subscriber.pk) if subscriber is not None else None
    return SubscribeOut(result=result, subscriber=out)  # type: ignore[arg-type]


@router.get(
    "/subscribers/{subscriber_id}",
    response=responses(200, SubscriberOut),
    summary="Read a subscriber",
)
def get_subscriber(request: HttpRequest, subscriber_id: PathId) -> Subscriber:
    return get_or_404(subscribers_of(account_of(request)), "subscriber", pk=subscriber_id)


@router.patch(
    "/subscribers/{subscriber_id}",
    response=responses(200, SubscriberOut),
    summary="Change how a subscriber gets mail",
)
def change_subscriber(
    request: HttpRequest, subscriber_id: PathId, payload: SubscriberPatch
) -> Subscriber:
    account = account_of(request, Membership.TOPIC_ADMIN)
    subscriber = get_or_404(account.subscribers.all(), "subscriber", pk=subscriber_id)
    if payload.delivery_mode is not None:
        actions.set_delivery_mode(subscriber, payload.delivery_mode)
    if payload.distribution_list is not None:
        actions.mark_distribution_list(subscriber, payload.distribution_list)
    if payload.language is not None:
        actions.set_language(subscriber, payload.language)
    return subscriber_out(account, subscriber.pk)


@router.delete(
    "/subscribers/{subscriber_id}",
    response=responses(204, None),
    summary="Delete a subscriber and everything they chose",
)
def remove_subscriber(request: HttpRequest, subscriber_id: PathId) -> Status[None]:
    account = account_of(request, Membership.TOPIC_ADMIN)
    actions.delete_subscriber(get_or_404(account.subscribers.all(), "subscriber", pk=subscriber_id))
    return Status(204, None)


@router.post(
    "/subscribers/{subscriber_id}/subscriptions",
    response=responses(200, SubscriberOut),
    summary="Add a topic to a subscriber",
)
def add_subscription(
    request: HttpRequest, subscriber_id: PathId, payload: SubscriptionIn
) -> Subscriber:
    account = account_of(request, Membership.TOPIC_ADMIN)
    subscriber = get_or_404(account.subscribers.all(), "subscriber", pk=subscriber_id)
    topic = by_ids(account.topics.all(), [payload.topic], "topic")[0]
    actions.subscribe(account, subscriber.email, [topic])
    return subscriber_out(account, subscriber.pk)


@router.delete(
    "/subscribers/{subscriber_id}/subscriptions/{topic_id}",
    response=responses(200, SubscriberOut),
    summary="Take a topic off a subscriber",
)
def remove_subscription(
    request: HttpRequest, subscriber_id: PathId, topic_id: PathId
) -> Subscriber:
    account = account_of(request, Membership.TOPIC_ADMIN)
    subscriber = get_or_404(account.subscribers.all(), "subscriber", pk=subscriber_id)
    topic = get_or_404(account.topics.all(), "topic", pk=topic_id)
    actions.unsubscribe_topic(subscriber, topic)
    return subscriber_out(account, subscriber.pk)


@router.post(
    "/subscribers/{subscriber_id}/unsubscribe",
    response=responses(200, SubscriberOut),
    summary="Unsubscribe from everything (the address stays known, marked unsubscribed)",
)
def unsubscribe(request: HttpRequest, subscriber_id: PathId) -> Subscriber:
    account = account_of(request, Membership.TOPIC_ADMIN)
    subscriber = get_or_404(account.subscribers.all(), "subscriber", pk=subscriber_id)
    actions.unsubscribe_all(subscriber)
    return subscriber_out(account, subscriber.pk)
