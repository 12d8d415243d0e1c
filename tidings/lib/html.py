"""HTML helpers: Markdown to safe HTML, and HTML to readable text."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import markdown
import nh3

BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"}


def sanitize(html: str) -> str:
    """Return HTML with scripts, event handlers and unsafe URLs removed."""
    return nh3.clean(html, url_schemes={"http", "https", "mailto"})


def markdown_to_html(text: str) -> str:
    return sanitize(markdown.markdown(text, extensions=["extra", "sane_lists", "nl2br"]))


class _TextExtractor(HTMLParser):
    def __init__(self, links: bool = False) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.links = links
        # The open links: their address, and where their text starts in parts.
        self.anchors: list[tuple[str, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in ("script", "style", "head"):
            self.skip += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li" and self.links:
            self.parts.append("\n\n• ")
        elif tag in BLOCKS:
            self.parts.append("\n\n")
        elif tag == "a" and self.links:
            self.anchors.append((found.get("href") or "", len(self.parts)))
        elif tag == "img" and self.links and found.get("alt"):
            self.parts.append(str(found["alt"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head"):
            self.skip = max(0, self.skip - 1)
        elif tag in BLOCKS:
            self.parts.append("\n\n")
        elif tag == "a" and self.links and self.anchors:
            href, start = self.anchors.pop()
            label = "".join(self.parts[start:]).strip()
            shown = href.removeprefix("mailto:")
            if href and shown != label:
                # The address after the text, as a plain-text reader needs it.
                self.parts.append(f" ({shown})" if label else shown)

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(re.sub(r"[ \t\r\n]+", " ", data))


def html_to_text(html: str, *, links: bool = False) -> str:
    """Return HTML as readable text; links=True keeps each link's address after its text, an
    image's alt text, and list items as bullets (the text part of a mail)."""
    parser = _TextExtractor(links)
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    text = re.sub(r"[ \t]*\n[ \t]*", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
