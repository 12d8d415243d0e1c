"""Small inline SVG charts drawn on the server: no script, and the page tables hold the numbers."""

from __future__ import annotations

from datetime import date

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH = 640
BAR = 22
LABEL = 170


def bars(title: str, rows: list[tuple[str, int]]) -> SafeString:
    """Return a horizontal bar chart of labelled counts, scaled to the largest."""
    top = max([n for _, n in rows] + [1])
    height = len(rows) * (BAR + 8) + 8
    span = WIDTH - LABEL - 70

    def row(index: int, label: str, n: int) -> tuple[object, ...]:
        y = 8 + index * (BAR + 8)
        width = round(span * n / top)
        return (y + BAR * 0.7, label, LABEL, y, width, BAR, LABEL + width + 6, y + BAR * 0.7, n)

    items = format_html_join(
        "",
        '<text x="0" y="{}" font-size="13">{}</text>'
        '<rect x="{}" y="{}" width="{}" height="{}" fill="#2a6ebb"></rect>'
        '<text x="{}" y="{}" font-size="13">{}</text>',
        (row(i, label, n) for i, (label, n) in enumerate(rows)),
    )
    return format_html(
        '<svg role="img" aria-label="{}" viewBox="0 0 {} {}" width="100%" '
        'style="max-width:{}px" xmlns="http://www.w3.org/2000/svg"><title>{}</title>{}</svg>',
        title,
        WIDTH,
        height,
        WIDTH,
        title,
        items,
    )


def line(title: str, series: list[tuple[date, int]]) -> SafeString:
    """Return a line chart of a daily series, with its first and last day and its top value."""
    height, left, bottom, right = 220, 48, 24, 8
    top = max([n for _, n in series] + [1])
    plot_w, plot_h = WIDTH - left - right, height - bottom - 8
    step = plot_w / max(len(series) - 1, 1)
    points = " ".join(
        f"{left + i * step:.1f},{8 + plot_h - plot_h * n / top:.1f}"
        for i, (_, n) in enumerate(series)
    )
    first = series[0][0].isoformat() if series else ""
    last = series[-1][0].isoformat() if series else ""
    return format_html(
        '<svg role="img" aria-label="{}" viewBox="0 0 {} {}" width="100%" style="max-width:{}px" '
        'xmlns="http://www.w3.org/2000/svg"><title>{}</title>'
        '<line x1="{}" y1="8" x2="{}" y2="{}" stroke="#999"></line>'
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#999"></line>'
        '<text x="{}" y="18" font-size="12" text-anchor="end">{}</text>'
        '<text x="{}" y="{}" font-size="12" text-anchor="end">0</text>'
        '<polyline points="{}" fill="none" stroke="#2a6ebb" stroke-width="2"></polyline>'
        '<text x="{}" y="{}" font-size="12">{}</text>'
        '<text x="{}" y="{}" font-size="12" text-anchor="end">{}</text></svg>',
        title,
        WIDTH,
        height,
        WIDTH,
        title,
        left,
        left,
        8 + plot_h,
        left,
        8 + plot_h,
        WIDTH - right,
        8 + plot_h,
        left - 4,
        top,
        left - 4,
        8 + plot_h,
        points,
        left,
        height - 6,
        first,
        WIDTH - right,
        height - 6,
        last,
    )
