"""Charts drawn on the server as SVG: horizontal bars with their labels and values, laid out here so that the
template only places them. Every chart is shown with a title, a description and a text table of the same numbers
(`charts.html`), so that nothing is only in the picture."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

ROW_HEIGHT = 28
BAR_HEIGHT = 18
LABEL_WIDTH = 190
BAR_SPACE = 330
VALUE_SPACE = 120


@dataclass(frozen=True)
class Bar:
    label: str
    value: str  # as shown
    y: int
    width: int
    # A target's mark on the bar's scale, when the chart compares with one.
    target_x: int | None = None


@dataclass(frozen=True)
class BarChart:
    id: str
    title: str
    description: str
    bars: tuple[Bar, ...]
    label_header: str
    value_header: str
    width: int = LABEL_WIDTH + BAR_SPACE + VALUE_SPACE
    label_width: int = LABEL_WIDTH
    bar_height: int = BAR_HEIGHT

    @property
    def height(self) -> int:
        return max(len(self.bars), 1) * ROW_HEIGHT + 8


def bar_chart(
    id: str,
    title: str,
    description: str,
    items: Sequence[tuple[str, Decimal | int, str]],
    *,
    label_header: str,
    value_header: str,
    targets: Sequence[Decimal | int | None] | None = None,
) -> BarChart:
    """Bars for (label, value, value as shown), scaled to the largest value (or target)."""
    values = [Decimal(value) for _, value, _ in items]
    marks = [Decimal(t) if t is not None else None for t in targets] if targets is not None else [None] * len(items)
    largest = max([*values, *(m for m in marks if m is not None), Decimal(0)])
    bars = []
    for index, ((label, _, shown), value, mark) in enumerate(zip(items, values, marks, strict=True)):
        width = int(BAR_SPACE * value / largest) if largest > 0 else 0
        target_x = LABEL_WIDTH + int(BAR_SPACE * mark / largest) if mark is not None and largest > 0 else None
        bars.append(Bar(label, shown, 4 + index * ROW_HEIGHT, max(width, 1 if value > 0 else 0), target_x))
    return BarChart(id, title, description, tuple(bars), label_header, value_header)
