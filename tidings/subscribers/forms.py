from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tidings.accounts.models import Account
from tidings.subscribers.models import Question, Subscriber
from tidings.topics.models import Topic


class TopicsForm(forms.Form):
    """The topics a subscriber may choose: the account's listed ones plus any they follow."""

    topics = forms.ModelMultipleChoiceField(
        queryset=Topic.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label=_("Topics"),
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


def question_fields(form: forms.Form, questions: list[Question], answers: dict[int, str]) -> None:
    """Add a field per subscriber question (q<id>): a choice among its answers, or a line."""
    for question in questions:
        name = f"q{question.pk}"
        if question.kind == Question.CHOICE:
            choices = [("", "—"), *[(c, c) for c in question.choice_list()]]
            form.fields[name] = forms.ChoiceField(
                label=question.label, choices=choices, required=False
            )
        else:
            form.fields[name] = forms.CharField(
                label=question.label, max_length=200, required=False
            )
        form.fields[name].initial = answers.get(question.pk, "")


def answered(form: forms.Form, questions: list[Question]) -> dict[Question, str]:
    return {q: form.cleaned_data.get(f"q{q.pk}", "") for q in questions}


class AnswersForm(forms.Form):
    """A subscriber's answers to the account's questions (preferences page)."""

    def __init__(
        self, questions: list[Question], answers: dict[int, str], *args: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.questions = questions
        question_fields(self, questions, answers)


class SubscribeForm(forms.Form):
    """The public quick-subscribe form: an address, listed topics, and a field only bots fill."""

    email = forms.EmailField(label=_("Email address"), max_length=254)
    topics = forms.ModelMultipleChoiceField(
        queryset=Topic.objects.none(),
        required=True,
        error_messages={"required": _("Choose at least one topic.")},
    )
    # The language of the mail the address will receive (the page's, unless changed).
    language = forms.ChoiceField(
        label=_("Language of your emails"), choices=settings.LANGUAGES, required=False
    )
    # Honeypot: hidden from people (and from screen readers); a filled one means a bot.
    website = forms.CharField(required=False, label=_("Leave this field empty"))

    def __init__(self, account: Account, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["topics"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = Topic.objects.filter(account=account, listed=True)
        self.questions = [
            q for q in Question.objects.filter(account=account, on_subscribe_page=True)
        ]
        self.questions.sort(key=lambda q: (q.position, q.pk))
        question_fields(self, self.questions, {})

    def question_fields(self) -> list[forms.BoundField]:
        return [self[f"q{q.pk}"] for q in self.questions]

    def is_bot(self) -> bool:
        return bool(self.cleaned_data.get("website"))


class DeliveryForm(forms.Form):
    delivery_mode = forms.ChoiceField(
        choices=Subscriber.DELIVERY_MODES, widget=forms.RadioSelect, label=_("Send me")
    )


class LanguageForm(forms.Form):
    """The language of a subscriber's mail and pages (preferences page)."""

    language = forms.ChoiceField(
        choices=settings.LANGUAGES, widget=forms.RadioSelect, label=_("Language")
    )


class AddressForm(forms.Form):
    email = forms.EmailField(label=_("New email address"), max_length=254)


class SuppressionForm(forms.Form):
    """Staff add an address to the account's own suppression list."""

    email = forms.EmailField(label="Email address", max_length=254)
    note = forms.CharField(required=False, max_length=500, label="Note (why)")


class SearchForm(forms.Form):
    q = forms.CharField(
        required=False,
        max_length=254,
        label="Address contains",
        help_text="Any part of the address; @example.org finds a whole domain.",
    )
    after = forms.CharField(required=False, max_length=254, widget=forms.HiddenInput)

    def clean_q(self) -> str:
        return str(self.cleaned_data["q"]).strip()


class ImportForm(forms.Form):
    CONFIRMED = "confirmed"
    OPT_IN = "opt-in"

    file = forms.FileField(label="CSV file", help_text="An 'email' column, or one address a line.")
    topics = forms.ModelMultipleChoiceField(
        queryset=Topic.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one topic."},
    )
    mode = forms.ChoiceField(
        choices=[
            (CONFIRMED, "They already agreed: subscribe them now"),
            (OPT_IN, "Each must opt in: mail them a confirmation link"),
        ],
        widget=forms.RadioSelect,
        initial=OPT_IN,
        label="Consent",
    )

    def __init__(self, account: Account, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["topics"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = Topic.objects.filter(account=account).order_by("name", "pk")


class AddSubscriberForm(forms.Form):
    email = forms.EmailField(label="Address", max_length=254)
    topics = forms.ModelMultipleChoiceField(
        queryset=Topic.objects.none(), widget=forms.CheckboxSelectMultiple, required=False
    )
    confirmed = forms.BooleanField(
        required=False,
        label="Subscribe at once (the account vouches for this address); otherwise a "
        "confirmation link is mailed",
    )

    def __init__(self, account: Account, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["topics"].queryset = Topic.objects.filter(account=account).order_by("name")  # type: ignore[attr-defined]


class EditSubscriberForm(forms.Form):
    topics = forms.ModelMultipleChoiceField(
        queryset=Topic.objects.none(), widget=forms.CheckboxSelectMultiple, required=False
    )
    delivery_mode = forms.ChoiceField(label="Delivery", choices=Subscriber.DELIVERY_MODES)
    language = forms.ChoiceField(
        label="Language of its mail",
        choices=[("", "The account's"), *settings.LANGUAGES],
        required=False,
    )
    status = forms.ChoiceField(
        label="State",
        choices=[(Subscriber.CONFIRMED, "confirmed"), (Subscriber.UNSUBSCRIBED, "unsubscribed")],
    )

    def __init__(self, account: Account, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["topics"].queryset = Topic.objects.filter(account=account).order_by("name")  # type: ignore[attr-defined]
