from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q

from tidings.subscribers.models import Subscriber
from tidings.topics.models import Topic


class TopicsForm(forms.Form):
    """The topics a subscriber may choose: the account's listed ones plus any they follow."""

    topics = forms.ModelMultipleChoiceField(
        queryset=Topic.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Topics",
    )

    def __init__(self, subscriber: Subscriber, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        followed = subscriber.subscriptions.values("topic_id")
        field = self.fields["topics"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = Topic.objects.filter(
            Q(listed=True) | Q(pk__in=followed), account_id=subscriber.account_id
        ).order_by("name", "pk")
        self.initial["topics"] = [row["topic_id"] for row in followed]
