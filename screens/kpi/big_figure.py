"""A figure for a wall: as large as its space allows, its name underneath.

Textual's `Digits` is three rows tall whatever the screen; on a 240×67 panel across a
room that is a twentieth of its height. Here each digit is drawn from a 3×5 grid of
square "pixels" (a pixel two cells wide and one tall: a terminal cell is about twice as
tall as it is wide), at the largest scale whose digits fit the widget's width and height.
Where even one cell per pixel row does not fit (five digits in a third of 80 columns),
`Digits`' own three-row font is drawn instead.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.renderables.digits import Digits
from textual.widget import Widget

# Each glyph: five rows of three pixels ("#" lit).
GLYPHS = {
    "0": ("###", "#.#", "#.#", "#.#", "###"),
    "1": (".#.", "##.", ".#.", ".#.", "###"),
    "2": ("###", "..#", "###", "#..", "###"),
    "3": ("###", "..#", "###", "..#", "###"),
    "4": ("#.#", "#.#", "###", "..#", "..#"),
    "5": ("###", "#..", "###", "..#", "###"),
    "6": ("###", "#..", "###", "#.#", "###"),
    "7": ("###", "..#", "..#", "..#", "..#"),
    "8": ("###", "#.#", "###", "#.#", "###"),
    "9": ("###", "#.#", "###", "..#", "###"),
    "–": ("...", "...", "###", "...", "..."),
}
GLYPH_ROWS = 5
GLYPH_COLUMNS = 3
# The largest scale drawn: past it the figure would only shout.
MAX_SCALE = 8


def block_width(text: str, scale: int) -> int:
    """Cells across `text` at `scale`: glyphs of three pixels, one pixel between them."""
    pixel = 2 * scale
    return len(text) * GLYPH_COLUMNS * pixel + max(0, len(text) - 1) * pixel


def fitting_scale(text: str, width: int, height: int) -> int:
    """The largest scale whose glyphs fit `width` × `height` cells; 0 when none does."""
    if not text or any(ch not in GLYPHS for ch in text):
        return 0
    scale = min(MAX_SCALE, height // GLYPH_ROWS)
    while scale > 0 and block_width(text, scale) > width:
        scale -= 1
    return scale


def block_lines(text: str, scale: int) -> list[str]:
    """`text` drawn in full blocks at `scale`, one string a row."""
    pixel = 2 * scale
    lines = []
    for row in range(GLYPH_ROWS):
        cells = (" " * pixel).join(
            "".join(("█" if lit == "#" else " ") * pixel for lit in GLYPHS[ch][row]) for ch in text
        )
        lines.extend([cells] * scale)
    return lines


class BigFigure(Widget):
    """A number (or "–" for no data) and its label, centred in the widget; figures side
    by side (children of one parent) are drawn at one scale, the largest all of them fit."""

    DEFAULT_CSS = """
    BigFigure { width: 1fr; height: 1fr; }
    """

    # The figure as drawn: digits, or "–" where there is no data.
    value: reactive[str] = reactive("–")

    def __init__(self, label: str, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.label = label

    def watch_value(self) -> None:
        # Figures side by side share one scale: a change of one may resize the others.
        for figure in self._row():
            figure.refresh()

    def _row(self) -> list[BigFigure]:
        if self.parent is None:
            return [self]
        return list(self.parent.query_children(BigFigure))

    def _fitting_scale(self) -> int:
        width, height = self.content_size
        # One row for the label, one between it and the figure.
        return fitting_scale(self.value, width, height - 2)

    def render(self) -> RenderableType:
        width, height = self.content_size
        scale = min(figure._fitting_scale() for figure in self._row())
        label = Text(self.label, style="bold", justify="center", no_wrap=True)
        lines = block_lines(self.value, scale) if scale else _digit_lines(self.value)
        # Centred by hand, the block as one: Rich centres each line on its own, trailing
        # blanks dropped, which would shear a glyph whose right pixels are unlit.
        left = " " * max(0, (width - max(map(len, lines))) // 2)
        figure = Text("\n".join(left + line for line in lines), no_wrap=True)
        above = max(0, (height - len(lines) - 2) // 2)
        parts = [Text("\n" * (above - 1))] if above else []
        return Group(*parts, figure, Text(""), label)


def _digit_lines(value: str) -> list[str]:
    """Textual's three-row digits (the `Digits` widget's own font), one string a row."""
    return [seg.text for seg in Digits(value).render(Style()) if seg.text != "\n"]
