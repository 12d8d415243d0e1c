from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tidings.archive.actions import MAX_COMMENT, MAX_NAME


class CommentForm(forms.Form):
    """A reader's comment; `website` is a honeypot that people never see or fill."""

    name = forms.CharField(label=_("Name"), max_length=MAX_NAME)
    email = forms.EmailField(label=_("Email (never shown)"))
    body = forms.CharField(label=_("Comment"), max_length=MAX_COMMENT, widget=forms.Textarea)
    notify = forms.BooleanField(label=_("Tell me by mail when others reply"), required=False)
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput)
    website = forms.CharField(
        # Translators: a trap for spam robots, hidden from people.
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def is_bot(self) -> bool:
        return bool(self.data.get("website"))
