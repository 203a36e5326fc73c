"""Charts as inline SVG, drawn in Python.

The HTML report must open offline and under a Content-Security-Policy that
forbids every fetch, so charts are plain SVG elements in the page, not a
JavaScript library. Labels may be device-supplied (a brand, a maker name) and
are escaped here, since this markup reaches the template as ``Markup``.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

_ROW = 22  # height of one bar row, px
_LABEL_W = 150  # width kept for labels, px
_BAR_W = 200  # width of the longest bar, px
_LABEL_CHARS = 22  # longer labels are cut, with the full text in a tooltip


def _short(label: str) -> str:
    return label if len(label) <= _LABEL_CHARS else label[: _LABEL_CHARS - 1] + "…"


def bar_chart(title: str, rows: Sequence[tuple[str, int]], *, limit: int = 10) -> Markup:
    """A horizontal bar chart of (label, count), largest first, at most `limit` bars.

    Counts past the limit are folded into an "other" bar so totals still add up.
    """
    ordered = sorted(rows, key=lambda r: (-r[1], r[0]))
    if len(ordered) > limit:
        rest = sum(count for _, count in ordered[limit - 1 :])
        ordered = [*ordered[: limit - 1], ("other", rest)]
    top = max((count for _, count in ordered), default=0) or 1
    width = _LABEL_W + _BAR_W + 50
    height = _ROW * max(len(ordered), 1) + 8
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    if not ordered:
        parts.append(f'<text x="0" y="{_ROW - 6}" class="chart-empty">none</text>')
    for i, (label, count) in enumerate(ordered):
        y = i * _ROW + 4
        bar = max(round(_BAR_W * count / top), 1 if count else 0)
        parts.append(
            f"<g><title>{escape(label)}: {count}</title>"
            f'<text x="{_LABEL_W - 6}" y="{y + 13}" text-anchor="end" class="chart-label">'
            f"{escape(_short(label))}</text>"
            f'<rect x="{_LABEL_W}" y="{y}" width="{bar}" height="{_ROW - 8}" class="chart-bar"/>'
            f'<text x="{_LABEL_W + bar + 4}" y="{y + 13}" class="chart-value">{count}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
