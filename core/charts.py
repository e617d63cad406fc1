"""Server-rendered SVG charts: a bar chart, a stacked bar chart and a pie chart.

Plain data in (labels and numbers), one ``<svg>`` element out as a ``SafeString``:

- no JavaScript, no CDN, no ``style`` attribute or ``<style>`` element (the pages run under a
  strict CSP; SVG presentation attributes such as ``fill=`` are not styles), so the same markup
  works in an HTML page and inside a WeasyPrint PDF (``core.pdf.render_pdf``);
- every label is XML-escaped (a label ``<script>`` stays text) and shown in full in a
  ``<title>`` tooltip when it has to be shortened on the chart;
- text is set in Noto Sans CJK SC (the PDF font) with generic fallbacks, and its width is
  estimated per character (a CJK character is one em wide, Latin about half) so that Chinese
  labels are laid out without a browser measuring them;
- negative numbers are drawn as zero; an empty chart says 暂无数据.

Use::

    from core.charts import bar_chart, pie_chart, stacked_bar_chart

    bar_chart(["A 低风险", "B 中风险"], [3, 5], title="按风险等级")
    stacked_bar_chart(["任务1", "任务2"], [("已公示", [3, 4]), ("未公示", [1, 0])])
    pie_chart(["未发现问题", "发现问题已责令改正"], [12, 3])
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

__all__ = ["PALETTE", "bar_chart", "pie_chart", "stacked_bar_chart", "text_width"]

# Colour-blind-friendly (Okabe–Ito based), dark enough for white text and for print.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#6A5ACD",
    "#999933",
    "#882255",
    "#44AA99",
    "#777777",
    "#332288",
)
FONT = "Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, Microsoft YaHei, sans-serif"
FONT_SIZE = 12
TEXT = "#222222"
AXIS = "#888888"
MAX_LABEL_WIDTH = 180  # px: longer labels are shortened with … (full text in <title>)


def _number(value: Any) -> float:
    if value is None:
        return 0.0
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    if math.isnan(number) or number < 0:
        return 0.0
    return number


def _format(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """Estimated rendered width: wide (CJK, full-width) characters one em, others ~0.58 em."""
    width = 0.0
    for char in text:
        width += size if unicodedata.east_asian_width(char) in ("W", "F") else size * 0.58
    return width


def _shorten(text: str, max_width: float, size: float = FONT_SIZE) -> str:
    if text_width(text, size) <= max_width:
        return text
    out = ""
    for char in text:
        if text_width(out + char + "…", size) > max_width:
            break
        out += char
    return out + "…"


def _text(
    x: float,
    y: float,
    content: str,
    *,
    anchor: str = "start",
    size: float = FONT_SIZE,
    fill: str = TEXT,
    weight: str = "",
) -> str:
    weight_attr = f' font-weight="{weight}"' if weight else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
        f'fill="{fill}"{weight_attr}>{escape(content)}</text>'
    )


def _label(x: float, y: float, label: str, max_width: float, *, anchor: str = "end") -> str:
    """A label shortened to ``max_width``, with the full text as its tooltip."""
    short = _shorten(label, max_width)
    if short == label:
        return _text(x, y, label, anchor=anchor)
    return f"<g><title>{escape(label)}</title>{_text(x, y, short, anchor=anchor)}</g>"


def _svg(width: float, height: float, title: str, body: list[str]) -> SafeString:
    title_el = f"<title>{escape(title)}</title>" if title else ""
    aria = f' aria-label="{escape(title)}"' if title else ""
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}"{aria} '
        f'font-family="{FONT}" font-size="{FONT_SIZE}">'
    )
    return mark_safe(head + title_el + "".join(body) + "</svg>")  # noqa: S308 - every text escaped


def _heading(title: str, width: float) -> tuple[list[str], float]:
    if not title:
        return [], 8.0
    return [_text(width / 2, 20, title, anchor="middle", size=14, weight="bold")], 34.0


def _empty(title: str, width: float) -> SafeString:
    body, top = _heading(title, width)
    height = top + 40
    body.append(_text(width / 2, top + 22, _("暂无数据"), anchor="middle", fill=AXIS))
    return _svg(width, height, title, body)


def _clean_labels(labels: Iterable[Any]) -> list[str]:
    return ["" if label is None else str(label) for label in labels]


def bar_chart(
    labels: Sequence[Any],
    values: Sequence[Any],
    *,
    title: str = "",
    width: int = 560,
    color: str = PALETTE[0],
    unit: str = "",
) -> SafeString:
    """Horizontal bars, one per label, each with its value at the end (long Chinese labels
    read better on the left than rotated under vertical bars)."""
    labels = _clean_labels(labels)
    numbers = [_number(v) for v in values]
    if len(labels) != len(numbers):
        raise ValueError("labels and values differ in length")
    if not labels:
        return _empty(title, width)
    body, top = _heading(title, width)
    label_width = min(MAX_LABEL_WIDTH, max(text_width(label) for label in labels)) + 10
    value_width = max(text_width(_format(n) + unit) for n in numbers) + 10
    plot = max(60.0, width - label_width - value_width - 10)
    biggest = max(numbers) or 1.0
    bar, gap = 18, 8
    x0 = label_width
    for index, (label, number) in enumerate(zip(labels, numbers, strict=True)):
        y = top + index * (bar + gap)
        length = plot * number / biggest
        body.append(_label(x0 - 6, y + bar - 5, label, label_width - 10))
        body.append(
            f'<rect x="{x0:.1f}" y="{y:.1f}" width="{length:.1f}" height="{bar}" fill="{color}">'
            f"<title>{escape(label)}：{_format(number)}{escape(unit)}</title></rect>"
        )
        body.append(_text(x0 + length + 4, y + bar - 5, _format(number) + unit))
    bottom = top + len(labels) * (bar + gap)
    body.append(
        f'<line x1="{x0:.1f}" y1="{top - 2:.1f}" x2="{x0:.1f}" y2="{bottom - gap + 2:.1f}" '
        f'stroke="{AXIS}" stroke-width="1"/>'
    )
    return _svg(width, bottom + 6, title, body)


def _legend(names: Sequence[str], y: float, width: float) -> tuple[list[str], float]:
    """Colour keys flowing left to right, wrapping; returns the elements and the next y."""
    out, x = [], 10.0
    for index, name in enumerate(names):
        shown = _shorten(name, MAX_LABEL_WIDTH)
        item = 14 + 4 + text_width(shown) + 16
        if x + item > width and x > 10:
            x, y = 10.0, y + 20
        colour = PALETTE[index % len(PALETTE)]
        out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="12" height="12" fill="{colour}"/>')
        out.append(_label(x + 16, y + 11, name, MAX_LABEL_WIDTH, anchor="start"))
        x += item
    return out, y + 22


def stacked_bar_chart(
    labels: Sequence[Any],
    series: Sequence[tuple[str, Sequence[Any]]],
    *,
    title: str = "",
    width: int = 560,
) -> SafeString:
    """Horizontal stacked bars: one bar per label, one coloured segment per series
    (``series`` = ``[(name, values), ...]``, each ``values`` as long as ``labels``), the total
    at the end of each bar, a legend underneath."""
    labels = _clean_labels(labels)
    names = [str(name) for name, _values in series]
    matrix = [[_number(v) for v in values] for _name, values in series]
    if any(len(row) != len(labels) for row in matrix):
        raise ValueError("every series needs one value per label")
    totals = [sum(column) for column in zip(*matrix, strict=True)] if matrix else []
    if not labels or not names:
        return _empty(title, width)
    body, top = _heading(title, width)
    label_width = min(MAX_LABEL_WIDTH, max(text_width(label) for label in labels)) + 10
    value_width = max(text_width(_format(t)) for t in totals) + 10
    plot = max(60.0, width - label_width - value_width - 10)
    biggest = max(totals) or 1.0
    bar, gap = 18, 8
    x0 = label_width
    for index, label in enumerate(labels):
        y = top + index * (bar + gap)
        body.append(_label(x0 - 6, y + bar - 5, label, label_width - 10))
        x = x0
        for series_index, row in enumerate(matrix):
            number = row[index]
            if number <= 0:
                continue
            length = plot * number / biggest
            colour = PALETTE[series_index % len(PALETTE)]
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{length:.1f}" height="{bar}" '
                f'fill="{colour}"><title>{escape(label)} · {escape(names[series_index])}：'
                f"{_format(number)}</title></rect>"
            )
            x += length
        body.append(_text(x + 4, y + bar - 5, _format(totals[index])))
    bottom = top + len(labels) * (bar + gap)
    body.append(
        f'<line x1="{x0:.1f}" y1="{top - 2:.1f}" x2="{x0:.1f}" y2="{bottom - gap + 2:.1f}" '
        f'stroke="{AXIS}" stroke-width="1"/>'
    )
    legend, end = _legend(names, bottom + 4, width)
    body.extend(legend)
    return _svg(width, end, title, body)


def pie_chart(
    labels: Sequence[Any], values: Sequence[Any], *, title: str = "", width: int = 560
) -> SafeString:
    """A pie with a legend on the right: each label with its value and share. Zero slices are
    listed in the legend but not drawn."""
    labels = _clean_labels(labels)
    numbers = [_number(v) for v in values]
    if len(labels) != len(numbers):
        raise ValueError("labels and values differ in length")
    total = sum(numbers)
    if not labels or total <= 0:
        return _empty(title, width)
    body, top = _heading(title, width)
    radius = 80
    cx, cy = 10 + radius, top + radius
    angle = -math.pi / 2  # start at twelve o'clock, clockwise
    for index, (label, number) in enumerate(zip(labels, numbers, strict=True)):
        if number <= 0:
            continue
        colour = PALETTE[index % len(PALETTE)]
        tip = f"<title>{escape(label)}：{_format(number)}（{_share(number, total)}）</title>"
        if number >= total:  # one slice: a full circle (an arc cannot start and end together)
            body.append(f'<circle cx="{cx}" cy="{cy}" r="{radius}" fill="{colour}">{tip}</circle>')
            continue
        sweep = 2 * math.pi * number / total
        x1, y1 = cx + radius * math.cos(angle), cy + radius * math.sin(angle)
        angle += sweep
        x2, y2 = cx + radius * math.cos(angle), cy + radius * math.sin(angle)
        large = 1 if sweep > math.pi else 0
        body.append(
            f'<path d="M{cx},{cy} L{x1:.2f},{y1:.2f} A{radius},{radius} 0 {large} 1 '
            f'{x2:.2f},{y2:.2f} Z" fill="{colour}" stroke="#ffffff" stroke-width="1">'
            f"{tip}</path>"
        )
    legend_x = cx + radius + 20
    legend_width = width - legend_x - 10
    y = top + 4
    for index, (label, number) in enumerate(zip(labels, numbers, strict=True)):
        colour = PALETTE[index % len(PALETTE)]
        body.append(f'<rect x="{legend_x}" y="{y:.1f}" width="12" height="12" fill="{colour}"/>')
        suffix = f" {_format(number)}（{_share(number, total)}）"
        room = max(40.0, legend_width - 16 - text_width(suffix))
        short = _shorten(label, room)
        shown = _text(legend_x + 16, y + 11, short + suffix, anchor="start")
        body.append(f"<g><title>{escape(label)}</title>{shown}</g>" if short != label else shown)
        y += 20
    height = max(top + 2 * radius + 10, y + 6)
    return _svg(width, height, title, body)


def _share(number: float, total: float) -> str:
    share = Decimal(str(100 * number / total)).quantize(Decimal("0.1"))
    return f"{share}%"
