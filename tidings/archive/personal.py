"""Personal links never work in public: the archive shows them neutralized.

A bulletin that reached a list (before lists got shared copies, or from another bulletin
service run by Tidings) may carry one subscriber's manage, unsubscribe, one-click or confirm
links, and tracked links that count whoever clicks as that recipient. Archived posts, threads,
comments, search excerpts and feeds are written through this module: a tracked link becomes its
destination, the open image goes, and a personal link is removed with a note. Done when pages
are rendered, so posts archived before this existed are covered too.
"""

from __future__ import annotations

import re
from html import escape, unescape

REMOVED = "[personal link removed]"

# Tidings' signed personal paths, on whatever host (the base URL may have changed since).
_HOST = r"https?://[^\s/\"'<>]+"
_SEGMENT = r"[^/\s\"'<>]+"
PERSONAL = re.compile(
    rf"{_HOST}/(?:subscriptions/(?:manage|unsubscribe|one-click)/{_SEGMENT}/(?:[a-z-]+/)?"
    rf"|subscriptions/[A-Z0-9_]+/confirm/{_SEGMENT}/"
    rf"|lists/[\w-]+/(?:confirm|unsubscribe)/{_SEGMENT}/)"
)
CLICK = re.compile(rf"{_HOST}/t/c/{_SEGMENT}/(\d+)/")
OPEN = re.compile(rf"{_HOST}/t/o/{_SEGMENT}\.gif")
ANCHOR = re.compile(r"<a\b[^>]*?\bhref=\"([^\"]*)\"[^>]*>(.*?)</a>", re.S | re.I)


def _destinations(text: str) -> dict[int, str]:
    ids = {int(m.group(1)) for m in CLICK.finditer(unescape(text))}
    if not ids:
        return {}
    from tidings.tracking.models import Link

    return dict(Link.objects.filter(pk__in=ids).values_list("pk", "url"))


def _may_hold_one(text: str) -> bool:
    return "/subscriptions/" in text or "/t/" in text or "/lists/" in text


def neutralize_text(text: str) -> str:
    """Return plain text with tracked links as their destination and personal ones removed."""
    if not _may_hold_one(text):
        return text
    found = _destinations(text)
    text = CLICK.sub(lambda m: found.get(int(m.group(1)), REMOVED), text)
    text = OPEN.sub("", text)
    return PERSONAL.sub(REMOVED, text)


def neutralize_html(html: str) -> str:
    """Return sanitized HTML with tracked links pointing at their destination and personal
    links (and the open image) taken out, their text kept with a note."""
    if not _may_hold_one(html):
        return html
    found = _destinations(html)

    def anchor(match: re.Match[str]) -> str:
        href, inner = unescape(match.group(1)), match.group(2)
        if OPEN.fullmatch(href):
            return ""
        click = CLICK.fullmatch(href)
        if click:
            destination = found.get(int(click.group(1)))
            if destination is None:
                return f"{inner} {REMOVED}"
            return match.group(0).replace(match.group(1), escape(destination))
        if PERSONAL.fullmatch(href):
            return f"{inner} {REMOVED}"
        return match.group(0)

    html = ANCHOR.sub(anchor, html)
    # Bare addresses in the text between tags.
    html = CLICK.sub(lambda m: escape(found.get(int(m.group(1)), REMOVED)), html)
    html = OPEN.sub("", html)
    return PERSONAL.sub(REMOVED, html)
