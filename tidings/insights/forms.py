from __future__ import annotations

from django import forms

from tidings.tracking.models import TrackingSettings


class TrackingSettingsForm(forms.ModelForm):
    class Meta:
        model = TrackingSettings
        fields = ["opens", "clicks"]
        labels = {"opens": "Count opens", "clicks": "Count clicks"}
