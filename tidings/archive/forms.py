from __future__ import annotations

from django import forms

from tidings.archive.actions import MAX_COMMENT, MAX_NAME


class CommentForm(forms.Form):
    """A reader's comment; `website` is a honeypot that people never see or fill."""

    name = forms.CharField(label="Name", max_length=MAX_NAME)
    email = forms.EmailField(label="Email (never shown)")
    body = forms.CharField(label="Comment", max_length=MAX_COMMENT, widget=forms.Textarea)
    notify = forms.BooleanField(label="Tell me by mail when others reply", required=False)
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput)
    website = forms.CharField(
        label="Leave this field empty",
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def is_bot(self) -> bool:
        return bool(self.data.get("website"))
