"""A rate as a percentage, and how it compares with the average (analytics list)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def rate(value: float | None, average: float | None = None) -> str:
    if value is None:
        return "—"
    shown = f"{value:.1%}"
    if average is None or abs(value - average) < 0.0005:
        return shown
    above = value > average
    word = "above" if above else "below"
    return format_html(
        '{} <span class="{}" title="{} the average">{}</span>'
        '<span class="visually-hidden"> ({} the average)</span>',
        shown,
        word,
        word,
        "▲" if above else "▼",
        word,
    )
