"""Bulletins: viewers read; authors write drafts, send, schedule and test."""

from datetime import UTC, datetime
from typing import Literal

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from tidings.accounts.models import Account, Membership, SenderIdentity
from tidings.api.v1.common import (
    Email,
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
from tidings.bulletins import actions
from tidings.bulletins.models import Bulletin, MessageTemplate
from tidings.delivery.actions import send_counts
from tidings.delivery.models import Send
from tidings.subscribers.models import Segment

router = Router(tags=["bulletins"])

Format = Literal["markdown", "html"]
# Named here: a field called text would hide the text() helper inside the schemas' bodies.
LongText = text(1_000_000)
TextVersion = text(2000)


class BulletinOut(Schema):
    id: int
    subject: str
    body: str
    body_format: Format
    text: str = Field(
        description="The text message version; empty: the title and the web copy's address."
    )
    topics: list[int]
    sender: int | None = Field(description="Sender identity; none: the account's own.")
    segment: int | None = Field(description="Only this segment's subscribers; none: all.")
    template: int | None = Field(description="Message template; none: the account's own look.")
    status: str = Field(description="draft, scheduled, sending or sent")
    scheduled_at: datetime | None
    published_at: datetime | None
    sent_at: datetime | None
    created: datetime
    web_url: str | None = Field(description="The public web copy, once published.")

    @staticmethod
    def resolve_topics(obj: Bulletin) -> list[int]:
        return sorted(t.pk for t in obj.topics.all())

    @staticmethod
    def resolve_sender(obj: Bulletin) -> int | None:
        return obj.sender_id

    @staticmethod
    def resolve_segment(obj: Bulletin) -> int | None:
        return obj.segment_id

    @staticmethod
    def resolve_template(obj: Bulletin) -> int | None:
        return obj.template_id

    @staticmethod
    def resolve_web_url(obj: Bulletin) -> str | None:
        if obj.published_at is None:
            return None
        return settings.BASE_URL + reverse("bulletins:web_copy", args=[obj.pk])


class Counts(Schema):
    """Recipients of the bulletin's send in each delivery state."""

    total: int = 0
    queued: int = 0
    sending: int = 0
    sent: int = 0
    deferred: int = 0
    # Held back by the configured rate limits: waiting their turn, not failing.
    throttled: int = 0
    failed: int = 0
    cancelled: int = 0


class StatusOut(Schema):
    id: int
    status: str
    scheduled_at: datetime | None
    published_at: datetime | None
    sent_at: datetime | None
    send_state: str | None = Field(description="preparing, sending, paused, cancelled or done")
    counts: Counts | None = Field(description="Absent until the bulletin is published.")


class BulletinIn(Schema):
    subject: line(300, 1)  # type: ignore[valid-type]
    body: LongText  # type: ignore[valid-type]
    body_format: Format = "markdown"
    text: TextVersion = ""  # type: ignore[valid-type]
    topics: Ids = Field(min_length=1)
    sender: Id | None = None
    segment: Id | None = None
    template: Id | None = None


class BulletinPatch(Schema):
    subject: line(300, 1) | None = None  # type: ignore[valid-type]
    body: LongText | None = None  # type: ignore[valid-type]
    body_format: Format | None = None
    text: TextVersion | None = None  # type: ignore[valid-type]
    topics: Ids | None = Field(None, min_length=1)
    sender: Id | None = None
    segment: Id | None = None
    template: Id | None = None


class ScheduleIn(Schema):
    when: datetime = Field(
        description="When to publish; a time without offset is in the account's time zone."
    )


class TestIn(Schema):
    addresses: list[Email] = Field(  # type: ignore[valid-type]
        min_length=1, max_length=actions.MAX_TEST_ADDRESSES
    )


class TestOut(Schema):
    sent: int


class BulletinFilter(Schema):
    status: text(16) | None = None  # type: ignore[valid-type]
    topic: Id | None = None


def bulletins_of(account: Account) -> QuerySet[Bulletin]:
    return Bulletin.objects.filter(account=account).prefetch_related("topics").order_by("-id")


def bulletin_out(bulletin: Bulletin) -> Bulletin:
    return bulletins_of(bulletin.account).get(pk=bulletin.pk)


def sender_for(account: Account, pk: int | None) -> SenderIdentity | None:
    if pk is None:
        return None
    return by_ids(account.sender_identities.all(), [pk], "sender identity")[0]


def segment_for(account: Account, pk: int | None) -> Segment | None:
    return None if pk is None else by_ids(account.segments.all(), [pk], "segment")[0]


def template_for(account: Account, pk: int | None) -> MessageTemplate | None:
    if pk is None:
        return None
    return by_ids(account.message_templates.all(), [pk], "message template")[0]


def editable(request: HttpRequest, bulletin_id: int) -> Bulletin:
    account = account_of(request, Membership.AUTHOR)
    return get_or_404(account.bulletins.select_related("account"), "bulletin", pk=bulletin_id)


@router.get("/bulletins", response=responses(200, list[BulletinOut]), summary="List bulletins")
@paginate(Page)
def list_bulletins(request: HttpRequest, filters: Query[BulletinFilter]) -> QuerySet[Bulletin]:
    bulletins = bulletins_of(account_of(request))
    if filters.status:
        bulletins = bulletins.filter(status=filters.status)
    if filters.topic:
        bulletins = bulletins.filter(topics__pk=filters.topic)
    return bulletins


@router.post("/bulletins", response=responses(201, BulletinOut), summary="Create a draft bulletin")
def add_bulletin(request: HttpRequest, payload: BulletinIn) -> Status[Bulletin]:
    account = account_of(request, Membership.AUTHOR)
    bulletin = actions.create_bulletin(
        account,
        subject=payload.subject,
        body=payload.body,
        body_format=payload.body_format,
        topics=by_ids(account.topics.all(), payload.topics, "topic"),
        sender=sender_for(account, payload.sender),
        text=payload.text,
        segment=segment_for(account, payload.segment),
        template=template_for(account, payload.template),
    )
    return Status(201, bulletin_out(bulletin))


@router.get(
    "/bulletins/{bulletin_id}", response=responses(200, BulletinOut), summary="Read a bulletin"
)
def get_bulletin(request: HttpRequest, bulletin_id: PathId) -> Bulletin:
    return get_or_404(bulletins_of(account_of(request)), "bulletin", pk=bulletin_id)


@router.patch(
    "/bulletins/{bulletin_id}", response=responses(200, BulletinOut), summary="Change a draft"
)
def change_bulletin(request: HttpRequest, bulletin_id: PathId, payload: BulletinPatch) -> Bulletin:
    bulletin = editable(request, bulletin_id)
    account = bulletin.account
    changes = payload.dict(exclude_unset=True)
    topics = (
        by_ids(account.topics.all(), payload.topics, "topic")
        if payload.topics is not None
        else list(bulletin.topics.all())
    )
    sender_id = changes.get("sender", bulletin.sender_id)
    actions.update_draft(
        bulletin,
        subject=payload.subject if payload.subject is not None else bulletin.subject,
        body=payload.body if payload.body is not None else bulletin.body,
        body_format=payload.body_format or bulletin.body_format,
        topics=topics,
        sender=sender_for(account, sender_id),
        text=payload.text,
        **{
            name: finder(account, changes[name])
            for name, finder in (("segment", segment_for), ("template", template_for))
            if name in changes
        },
    )
    return bulletin_out(bulletin)


@router.delete("/bulletins/{bulletin_id}", response=responses(204, None), summary="Delete a draft")
def remove_bulletin(request: HttpRequest, bulletin_id: PathId) -> Status[None]:
    actions.delete_draft(editable(request, bulletin_id))
    return Status(204, None)


@router.post(
    "/bulletins/{bulletin_id}/send",
    response=responses(202, StatusOut),
    summary="Send a draft now",
    description="Publishes the draft: its recipients are every confirmed subscriber of its "
    "topics at this moment. Workers then deliver it; follow `counts` on the status.",
)
def send_now(request: HttpRequest, bulletin_id: PathId) -> Status[StatusOut]:
    bulletin = editable(request, bulletin_id)
    actions.send_bulletin(bulletin)
    return Status(202, status_of(bulletin))


@router.put(
    "/bulletins/{bulletin_id}/schedule",
    response=responses(200, BulletinOut),
    summary="Schedule a draft",
)
def schedule(request: HttpRequest, bulletin_id: PathId, payload: ScheduleIn) -> Bulletin:
    bulletin = editable(request, bulletin_id)
    when = payload.when
    try:
        if timezone.is_naive(when):
            when = timezone.make_aware(when, bulletin.account.tz)
        when = when.astimezone(UTC)
    except (OverflowError, ValueError):
        raise HttpError(422, "when: the time is out of range.") from None
    actions.schedule_bulletin(bulletin, when)
    return bulletin_out(bulletin)


@router.delete(
    "/bulletins/{bulletin_id}/schedule",
    response=responses(200, BulletinOut),
    summary="Cancel a schedule (the bulletin becomes a draft again)",
)
def unschedule(request: HttpRequest, bulletin_id: PathId) -> Bulletin:
    bulletin = editable(request, bulletin_id)
    actions.cancel_schedule(bulletin)
    return bulletin_out(bulletin)


@router.post(
    "/bulletins/{bulletin_id}/test",
    response=responses(200, TestOut),
    summary="Send a test copy to a few addresses",
    description="Each address gets the bulletin as a subscriber would, its subject starting "
    "with [TEST].",
)
def test_send(request: HttpRequest, bulletin_id: PathId, payload: TestIn) -> TestOut:
    bulletin = editable(request, bulletin_id)
    return TestOut(sent=actions.send_test(bulletin, list(payload.addresses)))


def status_of(bulletin: Bulletin) -> StatusOut:
    bulletin.refresh_from_db()
    send = bulletin.sends.filter(kind=Send.BULLETIN, channel=Send.EMAIL).order_by("-pk").first()
    return StatusOut(
        id=bulletin.pk,
        status=bulletin.status,
        scheduled_at=bulletin.scheduled_at,
        published_at=bulletin.published_at,
        sent_at=bulletin.sent_at,
        send_state=send.state if send else None,
        counts=Counts(**send_counts(send)) if send else None,
    )


@router.get(
    "/bulletins/{bulletin_id}/status",
    response=responses(200, StatusOut),
    summary="Where a bulletin is: its status and its recipients' delivery counts",
)
def get_status(request: HttpRequest, bulletin_id: PathId) -> StatusOut:
    account = account_of(request)
    return status_of(get_or_404(account.bulletins.all(), "bulletin", pk=bulletin_id))
