"""Turn archived mail into safe HTML: links, folded quotes, sanitized HTML, hidden addresses."""

from __future__ import annotations

import re
from html import escape as html_escape

import nh3
from django.utils.html import escape, urlize
from django.utils.safestring import SafeString, mark_safe

from tidings.archive.personal import neutralize_html, neutralize_text

ADDRESS = re.compile(r"([A-Za-z0-9._%+=-]+)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
MAILTO_LINK = re.compile(r'<a href="mailto:[^"]*"[^>]*>(.*?)</a>', re.S)
# What urlize would make a link of: a scheme, www., an address or a bare domain it knows.
MAY_LINK = re.compile(r"://|www\.|@|\.(?:com|edu|gov|int|mil|net|org)\b", re.I)
IMG = re.compile(r"<img\b[^>]*>", re.I)
ATTR = r"""\b{}\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))"""

# Tags mail may keep: ammonia's defaults without images (a remote image tells the sender who
# read the page, so it becomes a link the reader can choose to follow).
MAIL_TAGS = set(nh3.ALLOWED_TAGS) - {"img", "area", "map"}


def hide_address(match: re.Match[str], ellipsis: str = "…") -> str:
    local, domain = match.group(1), match.group(2)
    keep = max(1, min(3, len(local) // 2))
    return f"{local[:keep]}{ellipsis}@{domain}"


def hide_addresses(text: str, ellipsis: str = "…") -> str:
    """Return text with each email address shortened like "bo…@example.org"."""
    return ADDRESS.sub(lambda m: hide_address(m, ellipsis), text)


def _attr(tag: str, name: str) -> str:
    match = re.search(ATTR.format(name), tag, re.I)
    if not match:
        return ""
    return next((g for g in match.groups() if g is not None), "")


def _image_as_link(match: re.Match[str]) -> str:
    tag = match.group(0)
    src, alt = _attr(tag, "src"), _attr(tag, "alt")
    label = html_escape(f"[image: {alt}]" if alt else "[image]")
    if src.lower().startswith(("http://", "https://")):
        return f'<a href="{html_escape(src)}" class="remote-image">{label}</a>'
    return label


def sanitize_mail_html(html: str) -> str:
    """Return a mail's HTML without scripts, styles, handlers, unsafe URLs or remote images."""
    html = IMG.sub(_image_as_link, html)
    return nh3.clean(
        html,
        tags=MAIL_TAGS,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
    )


def _linkify(text: str, reveal: bool) -> str:
    if not reveal:
        text = hide_addresses(text)
    if not MAY_LINK.search(text):  # urlize costs a millisecond a paragraph; most have no link
        return escape(text)
    html = urlize(text, nofollow=True, autoescape=True)
    if not reveal:  # urlize links even a shortened address; the link would go nowhere
        html = MAILTO_LINK.sub(r"\1", html)
    return html


def _paragraphs(text: str, reveal: bool) -> str:
    chunks = [c for c in re.split(r"\n\s*\n", text) if c.strip()]
    return "".join(
        f"<p>{_linkify(c.strip(chr(10)), reveal).replace(chr(10), '<br>')}</p>" for c in chunks
    )


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def render_text(body: str, *, reveal: bool = False) -> SafeString:
    """Return a text body as HTML: links clickable, quoted parts folded, addresses hidden,
    personal links neutralized."""
    body = neutralize_text(body)
    html = []
    lines = body.split("\n")
    start = 0
    while start < len(lines):
        quoted = _is_quoted(lines[start])
        end = start
        while end < len(lines) and (_is_quoted(lines[end]) == quoted or not lines[end].strip()):
            end += 1
        # Blank lines at a block's end belong to what follows.
        while end > start + 1 and not lines[end - 1].strip():
            end -= 1
        block = "\n".join(lines[start:end])
        if quoted:
            unquoted = "\n".join(re.sub(r"^\s*> ?", "", line) for line in lines[start:end])
            html.append(
                '<details class="quote"><summary>Show quoted text</summary>'
                f"<blockquote>{_paragraphs(unquoted, reveal)}</blockquote></details>"
            )
        else:
            html.append(_paragraphs(block, reveal))
        start = end
    return mark_safe("".join(html))  # noqa: S308 - every piece was escaped by urlize


def render_html(sanitized: str, *, reveal: bool = False) -> SafeString:
    """Return stored (already sanitized) mail HTML, with addresses hidden for anonymous readers
    and personal links neutralized."""
    sanitized = neutralize_html(sanitized)
    if not reveal:
        sanitized = MAILTO_LINK.sub(r"\1", hide_addresses(sanitized))
    return mark_safe(sanitized)  # noqa: S308 - sanitized by nh3 when archived


def render_comment(body: str, *, reveal: bool = False) -> SafeString:
    """Return a comment as paragraphs with links, addresses hidden for anonymous readers."""
    return mark_safe(_paragraphs(neutralize_text(body), reveal))  # noqa: S308 - escaped by urlize


def plain(text: str, *, reveal: bool = False) -> str:
    """Return a header value for display, personal links neutralized, addresses hidden for
    anonymous readers."""
    text = neutralize_text(text)
    return text if reveal else hide_addresses(text)
