"""Text messages (numbers that get texts, topic keywords, texts received) and the network."""

from datetime import datetime
from typing import Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate

from tidings.accounts.models import Account, Membership
from tidings.api.v1.common import Ids, Page, PathId, account_of, by_ids, get_or_404, line, responses
from tidings.subscribers import actions as subscriber_actions
from tidings.subscribers import network
from tidings.texts import actions
from tidings.texts.models import InboundText, Phone

router = Router(tags=["texts"])

PhoneStatus = Literal["pending", "confirmed", "stopped"]


class PhoneOut(Schema):
    id: int
    number: str
    status: PhoneStatus
    source: str
    topics: list[int]
    created: datetime
    confirmed_at: datetime | None

    @staticmethod
    def resolve_topics(obj: Phone) -> list[int]:
        return sorted(s.topic_id for s in obj.subscriptions.all())


class PhoneIn(Schema):
    number: line(32, 3)  # type: ignore[valid-type]
    topics: Ids = []
    confirmed: bool = False


class PhonePatch(Schema):
    topics: Ids | None = None
    status: Literal["stopped"] | None = None


class PhoneFilter(Schema):
    status: PhoneStatus | None = None
    topic: int | None = None


class KeywordIn(Schema):
    word: line(20)  # type: ignore[valid-type]


class KeywordOut(Schema):
    topic: int
    word: str


class InboundOut(Schema):
    id: int
    received: datetime
    source: str
    destination: str
    body: str
    action: str
    reply: str


def phones_of(account: Account) -> QuerySet[Phone]:
    return Phone.objects.filter(account=account).prefetch_related("subscriptions").order_by("id")


@router.get("/phones", response=responses(200, list[PhoneOut]), summary="List mobile numbers")
@paginate(Page)
def list_phones(request: HttpRequest, filters: Query[PhoneFilter]) -> QuerySet[Phone]:
    phones = phones_of(account_of(request))
    if filters.status:
        phones = phones.filter(status=filters.status)
    if filters.topic:
        phones = phones.filter(subscriptions__topic_id=filters.topic)
    return phones


@router.post(
    "/phones",
    response=responses(200, PhoneOut),
    summary="Give a mobile number texts of topics",
    description="The number is stored in E.164. With `confirmed: true` it gets texts at once "
    "(the account vouches for it); otherwise a text asks it to answer YES first.",
)
def add_phone(request: HttpRequest, payload: PhoneIn) -> Phone:
    account = account_of(request, Membership.TOPIC_ADMIN)
    topics = by_ids(account.topics.all(), payload.topics, "topic")
    source = Phone.CONSOLE if payload.confirmed else Phone.WEB
    phone = actions.subscribe_number(account, payload.number, topics, source=source)
    return phones_of(account).get(pk=phone.pk)


@router.get("/phones/{phone_id}", response=responses(200, PhoneOut), summary="Read a number")
def get_phone(request: HttpRequest, phone_id: PathId) -> Phone:
    return get_or_404(phones_of(account_of(request)), "phone", pk=phone_id)


@router.patch(
    "/phones/{phone_id}",
    response=responses(200, PhoneOut),
    summary="Change a number's topics, or stop its texts",
)
def change_phone(request: HttpRequest, phone_id: PathId, payload: PhonePatch) -> Phone:
    account = account_of(request, Membership.TOPIC_ADMIN)
    phone = get_or_404(phones_of(account), "phone", pk=phone_id)
    if payload.topics is not None:
        actions.set_text_topics(phone, by_ids(account.topics.all(), payload.topics, "topic"))
    if payload.status == Phone.STOPPED:
        actions.stop_number(phone)
    return phones_of(account).get(pk=phone.pk)


@router.delete("/phones/{phone_id}", response=responses(204, None), summary="Forget a number")
def remove_phone(request: HttpRequest, phone_id: PathId) -> Status[None]:
    account = account_of(request, Membership.TOPIC_ADMIN)
    get_or_404(phones_of(account), "phone", pk=phone_id).delete()
    return Status(204, None)


@router.put(
    "/topics/{topic_id}/keyword",
    response=responses(200, KeywordOut),
    summary="Set the word that, texted to the account's number, subscribes to a topic",
)
def put_keyword(request: HttpRequest, topic_id: PathId, payload: KeywordIn) -> KeywordOut:
    account = account_of(request, Membership.TOPIC_ADMIN)
    topic = get_or_404(account.topics.all(), "topic", pk=topic_id)
    keyword = actions.set_keyword(topic, payload.word)
    return KeywordOut(topic=topic.pk, word=keyword.word if keyword else "")


@router.get(
    "/texts/received",
    response=responses(200, list[InboundOut]),
    summary="Texts sent to the account's number, with what was done",
)
@paginate(Page)
def list_received(request: HttpRequest) -> QuerySet[InboundText]:
    return InboundText.objects.filter(account=account_of(request)).order_by("-id")


class NetworkOut(Schema):
    member: bool
    came: int
    waiting: int
    sent: int


class NetworkIn(Schema):
    member: bool


def network_out(account: Account) -> NetworkOut:
    counts = network.counts(account)
    return NetworkOut(member=subscriber_actions.settings_for(account).network, **counts)


@router.get(
    "/network",
    response=responses(200, NetworkOut),
    summary="Whether the account is in the network, and who came through it",
    tags=["network"],
)
def get_network(request: HttpRequest) -> NetworkOut:
    return network_out(account_of(request))


@router.put(
    "/network",
    response=responses(200, NetworkOut),
    summary="Join or leave the network of accounts that recommend each other's topics",
    tags=["network"],
)
def put_network(request: HttpRequest, payload: NetworkIn) -> NetworkOut:
    account = account_of(request, Membership.ADMIN)
    subscriber_actions.set_network(account, payload.member)
    return network_out(account)
