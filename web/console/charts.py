"""Charts drawn on the server as SVG (no chart library, no script): the geometry is computed here, the
template only places rectangles and text (console/_charts.html). Paired bars compare a period with the
one before it; ranked bars list the top items of one number."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 480
BAR_H = 14
ROW_H = 44
LABEL_W = 150
MAX_BAR = WIDTH - LABEL_W - 60


@dataclass(frozen=True)
class Bar:
    y: float
    width: float
    value: str


@dataclass(frozen=True)
class Row:
    label: str
    y: float
    current: Bar
    previous: Bar | None
    provisional: bool = False


@dataclass(frozen=True)
class Chart:
    rows: tuple[Row, ...]
    height: int
    width: int = WIDTH
    label_w: int = LABEL_W


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _num(value) -> float:
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


def paired(items: list[tuple[str, dict]]) -> Chart:
    """``items``: (label, {"current", "previous", "provisional"?}) → two bars per row on one scale."""
    top = max([_num(c["current"]) for _l, c in items] + [_num(c["previous"]) for _l, c in items] + [1.0])
    rows = []
    for i, (label, c) in enumerate(items):
        y = i * ROW_H + 6
        rows.append(Row(label, y,
                        Bar(y, MAX_BAR * _num(c["current"]) / top, _fmt(c["current"])),
                        Bar(y + BAR_H + 2, MAX_BAR * _num(c["previous"]) / top, _fmt(c["previous"])),
                        bool(c.get("provisional"))))
    return Chart(tuple(rows), len(items) * ROW_H + 8)


def ranked(items: list[tuple[str, float]], limit: int = 10) -> Chart:
    """One bar per item, the largest first (``items`` already sorted), at most ``limit``."""
    items = items[:limit]
    top = max([_num(v) for _l, v in items] + [1.0])
    step = BAR_H + 10
    rows = [Row(label, i * step + 4, Bar(i * step + 4, MAX_BAR * _num(v) / top, _fmt(v)), None)
            for i, (label, v) in enumerate(items)]
    return Chart(tuple(rows), len(items) * step + 8)
