"""Pages carry their language and direction; the stylesheets use logical properties, so a
right-to-left language mirrors the layout."""

from __future__ import annotations

import re

from django.urls import reverse
from django.utils import translation

from tests.paths import ROOT


def test_a_page_names_its_language_and_direction(client, account) -> None:  # type: ignore[no-untyped-def]
    page = client.get(reverse("subscribers:subscribe", args=[account.code])).content.decode()
    assert '<html lang="en" dir="ltr">' in page
    with translation.override("ar"):
        from django.template.loader import render_to_string

        html = render_to_string("base.html", {})
    assert '<html lang="ar" dir="rtl">' in html


def test_the_stylesheets_use_no_physical_left_or_right() -> None:
    for path in ("tidings/static/tidings.css", "tidings/console/static/console.css"):
        css = (ROOT / path).read_text()
        found = re.findall(
            r"(?<![-\w])(?:margin|padding|border)-(?:left|right)\b|text-align:\s*(?:left|right)",
            css,
        )
        assert found == [], (path, found)
