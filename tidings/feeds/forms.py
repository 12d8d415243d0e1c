from __future__ import annotations

from typing import Any

from django import forms

from tidings.accounts.models import Account
from tidings.feeds.models import Watch
from tidings.topics.models import Topic


class WatchForm(forms.ModelForm):
    url = forms.URLField(
        label="URL",
        max_length=2000,
        assume_scheme="https",
        help_text="An RSS/Atom feed, or a web page whose main text is watched for changes.",
    )

    class Meta:
        model = Watch
        fields = ["topic", "kind", "url", "mode", "enabled"]
        labels = {"mode": "When something is new"}
        help_texts = {
            "mode": "Items edited under the same GUID always wait as drafts for review.",
        }

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["topic"].queryset = Topic.objects.filter(account=account).order_by("name")  # type: ignore[attr-defined]
        self.fields["kind"].widget = forms.RadioSelect(choices=Watch.KINDS)
        self.fields["mode"].widget = forms.RadioSelect(choices=Watch.MODES)

    def clean_url(self) -> str:
        url: str = self.cleaned_data["url"]
        if not url.lower().startswith(("http://", "https://")):
            raise forms.ValidationError("Only http and https URLs can be watched.")
        return url
