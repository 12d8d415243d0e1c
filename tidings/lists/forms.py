from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tidings.lists.models import ListSender, MailingList, Member


class JoinForm(forms.Form):
    email = forms.EmailField(max_length=254, label=_("Email address"))
    delivery_mode = forms.ChoiceField(
        choices=Member.DELIVERY_MODES, initial=Member.EACH, label=_("Delivery"), required=False
    )
    # A field people never see: bots fill it in, and get the same answer as anyone else.
    website = forms.CharField(required=False)

    def is_bot(self) -> bool:
        return bool(self.cleaned_data.get("website"))


class LeaveForm(forms.Form):
    email = forms.EmailField(max_length=254, label=_("Email address"))
    website = forms.CharField(required=False)

    def is_bot(self) -> bool:
        return bool(self.cleaned_data.get("website"))


class SettingsForm(forms.ModelForm):
    class Meta:
        model = MailingList
        fields = [
            "display_name",
            "description",
            "subject_tag",
            "footer",
            "reply_to",
            "posting_policy",
            "require_sender_authentication",
            "max_message_size",
            "attachment_policy",
            "attachment_types",
            "archive_visibility",
            "members_visible",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "footer": forms.Textarea(attrs={"rows": 3}),
            "attachment_types": forms.Textarea(attrs={"rows": 4}),
        }

    def clean_attachment_types(self) -> str:
        value: str = self.cleaned_data["attachment_types"]
        lines = [line.strip().lower() for line in value.splitlines() if line.strip()]
        for line in lines:
            kind, slash, sub = line.partition("/")
            if not slash or not kind or not sub or " " in line:
                raise forms.ValidationError(f"{line!r} is not a content type like application/zip.")
        return "\n".join(lines)


class MemberForm(forms.Form):
    delivery_mode = forms.ChoiceField(choices=Member.DELIVERY_MODES)


class AddressesForm(forms.Form):
    addresses = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=2_000_000,
        help_text="One address a line, or CSV whose first column is the address.",
    )
    delivery_mode = forms.ChoiceField(choices=Member.DELIVERY_MODES, initial=Member.EACH)


class RejectForm(forms.Form):
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class SenderForm(forms.Form):
    address = forms.EmailField(max_length=254)
    action = forms.ChoiceField(choices=ListSender.ACTIONS)
