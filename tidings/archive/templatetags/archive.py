"""Template filters that render archived mail safely."""

from __future__ import annotations

import re

from django import template
from django.template.defaultfilters import filesizeformat
from django.utils.safestring import SafeString, mark_safe

from tidings.archive import render
from tidings.archive.personal import neutralize_html, neutralize_text

register = template.Library()
EXCERPT_WORDS = 200


@register.filter
def body(post: object, reveal: bool) -> SafeString:
    """Render a post's body: its sanitized HTML, else its text with links and folded quotes
    (for anonymous readers, as rendered when it was archived)."""
    stored = getattr(post, "rendered", "")
    if stored and not reveal:
        # Rendered (escaped, sanitized) when archived; neutralized as it is shown, so links that
        # personal.py learnt to recognize since are caught in old posts too.
        return mark_safe(neutralize_html(stored))  # noqa: S308
    html = getattr(post, "body_html", "")
    if html:
        return render.render_html(html, reveal=bool(reveal))
    return render.render_text(getattr(post, "body_text", ""), reveal=bool(reveal))


@register.filter
def excerpt(post: object, reveal: bool) -> SafeString:
    """Render the start of a post's text, quoted lines left out."""
    lines = [ln for ln in getattr(post, "body_text", "").split("\n") if not ln.startswith(">")]
    text = "\n".join(lines)
    words = list(re.finditer(r"\S+", text))
    if len(words) > EXCERPT_WORDS:
        text = text[: words[EXCERPT_WORDS - 1].end()] + " …"
    return render.render_text(text, reveal=bool(reveal))


@register.filter
def shown(value: str, reveal: bool) -> str:
    """Show a header value, its addresses hidden unless the reader may see them."""
    return render.plain(value or "", reveal=bool(reveal))


@register.filter
def neutral(value: str) -> str:
    """Show an account's own text (a bulletin's subject) with personal links neutralized; its
    addresses are the agency's to show, as in its feed."""
    return neutralize_text(value or "")


@register.filter
def comment_body(comment: object, reveal: bool) -> SafeString:
    return render.render_comment(getattr(comment, "body", ""), reveal=bool(reveal))


@register.filter
def size(n: int) -> str:
    return str(filesizeformat(n))
