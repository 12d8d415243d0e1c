"""Subscriber questions, their answers, and segments built from answers and topics.

A segment picks, among a bulletin's recipients, those who follow any of its topics (if it names
some) and answered its question with one of its values (if it names one). The snapshot applies
it in SQL (segment_sql) and the counts shown before sending apply the same rule (in_segment).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from tidings.accounts.models import Account
from tidings.subscribers.models import Answer, Question, Segment, Subscriber, Subscription
from tidings.topics.models import Topic


def questions_for(account: Account, *, subscribe_page: bool = False) -> list[Question]:
    found = Question.objects.filter(account=account)
    if subscribe_page:
        found = found.filter(on_subscribe_page=True)
    return list(found.order_by("position", "pk"))


def save_question(
    account: Account,
    *,
    label: str,
    kind: str,
    choices: str = "",
    on_subscribe_page: bool = True,
    question: Question | None = None,
) -> Question:
    found = question or Question(account=account)
    if found.account_id != account.pk:
        raise ValidationError("The question belongs to another account.")
    found.label, found.kind, found.choices = label.strip(), kind, choices
    found.on_subscribe_page = on_subscribe_page
    if kind == Question.CHOICE and len(found.choice_list()) < 2:
        raise ValidationError("A question with answers to choose from needs two or more.")
    found.full_clean()
    found.save()
    return found


def save_answers(subscriber: Subscriber, answers: dict[Question, str]) -> None:
    """Keep a subscriber's answers (an empty one is removed); a choice must be one offered."""
    with transaction.atomic():
        for question, raw in answers.items():
            if question.account_id != subscriber.account_id:
                raise ValidationError("A question of another account can't be answered.")
            value = " ".join(str(raw or "").split())[:200]
            if not value:
                Answer.objects.filter(subscriber=subscriber, question=question).delete()
                continue
            if question.kind == Question.CHOICE and value not in question.choice_list():
                raise ValidationError(f"{value!r} is not an answer to {question.label!r}.")
            Answer.objects.update_or_create(
                subscriber=subscriber, question=question, defaults={"value": value}
            )


def answers_of(subscriber: Subscriber) -> dict[int, str]:
    return dict(subscriber.answers.values_list("question_id", "value"))


def save_segment(
    account: Account,
    *,
    name: str,
    topics: list[Topic],
    question: Question | None,
    values: str,
    segment: Segment | None = None,
) -> Segment:
    found = segment or Segment(account=account)
    if found.account_id != account.pk:
        raise ValidationError("The segment belongs to another account.")
    if any(t.account_id != account.pk for t in topics) or (
        question is not None and question.account_id != account.pk
    ):
        raise ValidationError("Topics and questions must be the account's own.")
    found.name, found.question, found.values = name.strip(), question, values
    if question is not None and not found.value_list():
        raise ValidationError("Name the answers that put a subscriber in the segment.")
    found.full_clean()
    with transaction.atomic():
        found.save()
        found.topics.set(topics)
    return found


def in_segment(segment: Segment) -> Q:
    """The segment's rule on Subscriber rows (for counts)."""
    rule = Q()
    topic_ids = list(segment.topics.values_list("pk", flat=True))
    if topic_ids:
        rule &= Q(
            Exists(Subscription.objects.filter(subscriber=OuterRef("pk"), topic_id__in=topic_ids))
        )
    if segment.question_id:
        rule &= Q(
            Exists(
                Answer.objects.filter(
                    subscriber=OuterRef("pk"),
                    question_id=segment.question_id,
                    value__in=segment.value_list(),
                )
            )
        )
    return rule


def segment_sql(segment: Segment, subscriber_column: str) -> tuple[str, list[Any]]:
    """The segment's rule as SQL on a subscriber id column (for the snapshot's INSERT … SELECT)."""
    clauses: list[str] = []
    params: list[Any] = []
    topic_ids = list(segment.topics.values_list("pk", flat=True))
    if topic_ids:
        marks = ", ".join(["%s"] * len(topic_ids))
        clauses.append(
            f"EXISTS (SELECT 1 FROM {Subscription._meta.db_table} st "  # noqa: S608
            f"WHERE st.subscriber_id = {subscriber_column} AND st.topic_id IN ({marks}))"
        )
        params += topic_ids
    if segment.question_id:
        values = segment.value_list()
        marks = ", ".join(["%s"] * len(values))
        clauses.append(
            f"EXISTS (SELECT 1 FROM {Answer._meta.db_table} sa "  # noqa: S608
            f"WHERE sa.subscriber_id = {subscriber_column} AND sa.question_id = %s "
            f"AND sa.value IN ({marks}))"
        )
        params += [segment.question_id, *values]
    return " AND ".join(clauses) or "1 = 1", params
