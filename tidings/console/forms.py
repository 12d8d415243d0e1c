"""Forms of the console pages: they validate input; the actions modules do the writing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.template import Template, TemplateSyntaxError

from tidings.accounts.models import Account, MediaFile, Membership, SenderIdentity
from tidings.bulletins.models import Bulletin, MessageTemplate
from tidings.lib.headers import validate_line
from tidings.subscribers.models import Segment
from tidings.topics.models import Category, Topic


class BulletinForm(forms.Form):
    subject = forms.CharField(label="Title", max_length=300, validators=[validate_line])
    body_format = forms.ChoiceField(label="Format", choices=Bulletin.FORMATS, initial="markdown")
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 16}), required=False)
    topics = forms.ModelMultipleChoiceField(
        queryset=Topic.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    text = forms.CharField(
        label="Text message",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "data-segments": "text-segments"}),
        help_text="Sent to the numbers that follow these topics by text. Empty: the title and "
        "the address of the web copy.",
    )
    segment = forms.ModelChoiceField(
        queryset=Segment.objects.none(),
        required=False,
        empty_label="Everyone who follows the topics",
        label="Segment",
        help_text="Only the subscribers of the topics that the segment picks.",
    )
    template = forms.ModelChoiceField(
        queryset=MessageTemplate.objects.none(),
        required=False,
        empty_label="The account's own header and footer",
        label="Message template",
    )
    sender = forms.ModelChoiceField(
        queryset=SenderIdentity.objects.none(),
        required=False,
        empty_label="The account's own sender",
        label="Sender identity",
    )
    preview_as = forms.CharField(
        label="Preview as subscriber (email)", required=False, max_length=320
    )
    test_addresses = forms.CharField(
        label="Test send to (addresses, one per line or comma-separated)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    schedule_at = forms.DateTimeField(
        label="Send at",
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(
        self, *args: Any, account: Account, topics: QuerySet[Topic], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.account = account
        self.fields["topics"].queryset = topics  # type: ignore[attr-defined]
        self.fields["sender"].queryset = account.sender_identities.order_by("name")  # type: ignore[attr-defined]
        self.fields["template"].queryset = account.message_templates.order_by("name")  # type: ignore[attr-defined]
        self.fields["segment"].queryset = account.segments.order_by("name")  # type: ignore[attr-defined]
        self.fields["schedule_at"].help_text = f"In the account's time zone, {account.time_zone}."

    def clean_schedule_at(self) -> datetime | None:
        """Read the time as a wall-clock time in the account's zone, whatever the server's."""
        value = self.cleaned_data.get("schedule_at")
        if value is None:
            return None
        return value.replace(tzinfo=None).replace(tzinfo=self.account.tz)

    def addresses(self) -> list[str]:
        raw = self.cleaned_data.get("test_addresses", "")
        return [a for a in raw.replace(",", "\n").split() if a]


class AccountSettingsForm(forms.ModelForm):  # type: ignore[type-arg]
    language = forms.ChoiceField(
        choices=settings.LANGUAGES,
        help_text="Public pages and subscriber mail, unless the reader chose another.",
    )

    class Meta:
        model = Account
        fields = [
            "name",
            "postal_address",
            "time_zone",
            "language",
            "sender_name",
            "sender_address",
            "header_template",
            "footer_template",
            "courtesy_copy",
            "shared_copies_for_distribution_lists",
            "brand_color",
            "logo",
        ]
        widgets = {
            "brand_color": forms.TextInput(
                attrs={"pattern": "#[0-9a-fA-F]{6}", "placeholder": "#0b4f9c", "size": 8}
            ),
            "header_template": forms.Textarea(attrs={"rows": 3}),
            "footer_template": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only the account's own images; the library's page uploads them.
        media = self.instance.media.order_by("-created") if self.instance.pk else None
        self.fields["logo"].queryset = media if media is not None else MediaFile.objects.none()  # type: ignore[attr-defined]
        self.fields["logo"].empty_label = "No logo: the account's name"  # type: ignore[attr-defined]
        self.fields["brand_color"].required = False  # left empty: kept as it is
        self.fields["brand_color"].help_text = "Of the pages' top rule and the emails' banner."

    def clean_brand_color(self) -> str:
        return str(self.cleaned_data.get("brand_color") or self.instance.brand_color)

    def _template(self, name: str) -> str:
        value = str(self.cleaned_data.get(name, ""))
        try:
            Template(value)
        except TemplateSyntaxError as error:
            raise ValidationError(f"This template does not compile: {error}") from None
        return value

    def clean_header_template(self) -> str:
        return self._template("header_template")

    def clean_footer_template(self) -> str:
        return self._template("footer_template")


class MemberForm(forms.Form):
    user = forms.CharField(label="Username or email", max_length=254)
    role = forms.ChoiceField(choices=Membership.ROLES, initial=Membership.AUTHOR)
    topics = forms.ModelMultipleChoiceField(
        queryset=Topic.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="For authors: the topics they may write to (none ticked: every topic).",
    )

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["topics"].queryset = account.topics.order_by("name")  # type: ignore[attr-defined]


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.ROLES)
    topics = forms.ModelMultipleChoiceField(
        queryset=Topic.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["topics"].queryset = account.topics.order_by("name")  # type: ignore[attr-defined]


class SenderForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = SenderIdentity
        fields = ["name", "address"]


class TopicForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Topic
        fields = [
            "name",
            "short_name",
            "code",
            "description",
            "listed",
            "archive_public",
            "categories",
        ]
        widgets = {
            "categories": forms.CheckboxSelectMultiple,
            "description": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.account = account
        self.fields["categories"].queryset = account.categories.order_by("name")  # type: ignore[attr-defined]
        if not self.instance.pk:
            self.fields["code"].required = False
            self.fields["code"].help_text = "Left empty: ACCOUNT_n."
        self.fields["short_name"].required = False


class CategoryForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Category
        fields = ["name", "parent"]

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.account = account
        others = account.categories.order_by("name")
        if self.instance.pk:
            others = others.exclude(pk__in=descendants(self.instance))
        self.fields["parent"].queryset = others  # type: ignore[attr-defined]


def descendants(category: Category) -> set[int]:
    """Return the ids of a category and every category below it (one query per level)."""
    found = {category.pk}
    level = {category.pk}
    while level:
        level = set(
            Category.objects.filter(parent_id__in=level)
            .exclude(pk__in=found)
            .values_list("pk", flat=True)
        )
        found |= level
    return found
