"""The wall's large figures: drawn at the largest scale their space allows, one scale for
figures side by side, Textual's three-row digits where even the smallest does not fit."""

from __future__ import annotations

from rich.console import Console
from textual.app import App, ComposeResult
from textual.containers import Horizontal

from itsm_tui.screens.kpi.big_figure import (
    GLYPHS,
    BigFigure,
    block_lines,
    block_width,
    fitting_scale,
)
from tests.ui.snapshot_apps import run_async


def test_glyphs_are_three_by_five() -> None:
    assert set(GLYPHS) == set("0123456789–")
    for rows in GLYPHS.values():
        assert len(rows) == 5 and all(len(r) == 3 and set(r) <= {"#", "."} for r in rows)


def test_a_pixel_is_two_cells_wide_and_one_tall_per_scale() -> None:
    lines = block_lines("7", 2)
    # 5 glyph rows, each drawn twice; 3 pixels of 4 cells.
    assert len(lines) == 10 and {len(line) for line in lines} == {12}
    assert lines[0] == "█" * 12 and lines[1] == "█" * 12
    assert lines[2] == " " * 8 + "█" * 4
    # One pixel between glyphs: "11" at scale 1 is 6 + 2 + 6 cells.
    assert block_width("11", 1) == 14 == len(block_lines("11", 1)[0])


def test_the_scale_is_the_largest_that_fits_width_and_height() -> None:
    # "205" at scale s is 3·6s + 2·2s = 22s cells wide and 5s rows tall.
    assert fitting_scale("205", 78, 100) == 3
    assert fitting_scale("205", 88, 100) == 4
    assert fitting_scale("205", 200, 14) == 2
    assert fitting_scale("205", 21, 100) == 0
    assert fitting_scale("9", 10_000, 10_000) == 8  # never past the largest
    assert fitting_scale("", 100, 100) == 0
    assert fitting_scale("1.5", 100, 100) == 0  # not drawable: the fallback


class Row(App[None]):
    def __init__(self, values: tuple[str, ...]) -> None:
        super().__init__()
        self.values = values

    def compose(self) -> ComposeResult:
        with Horizontal():
            for i, value in enumerate(self.values):
                figure = BigFigure(f"figure {i}", id=f"f{i}")
                figure.value = value
                yield figure


def _lines(figure: BigFigure) -> list[str]:
    console = Console(width=figure.content_size.width, color_system=None)
    with console.capture() as capture:
        console.print(figure.render())
    return capture.get().splitlines()


@run_async
async def test_figures_side_by_side_share_the_scale_of_the_widest() -> None:
    app = Row(("2", "14", "205"))
    async with app.run_test(size=(240, 67)) as pilot:
        await pilot.pause()
        figures = list(app.query(BigFigure))
        drawn = [[line for line in _lines(f) if "█" in line] for f in figures]
        # "205" in 80 columns fits scale 3 (66 cells): all three are 15 rows tall.
        assert [len(rows) for rows in drawn] == [15, 15, 15]
        # Centred as a block: every row of a glyph starts at the same column or right
        # of it, never sheared.
        two = drawn[0]
        left = min(len(r) - len(r.lstrip()) for r in two)
        assert left == (80 - block_width("2", 3)) // 2
        assert two[9].strip() == "█" * 6 and len(two[9]) - len(two[9].lstrip()) == left
        labels = [line.strip() for f in figures for line in _lines(f) if "figure" in line]
        assert labels == ["figure 0", "figure 1", "figure 2"]
        # A longer figure shrinks its neighbours with it.
        figures[2].value = "50132"
        await pilot.pause()
        drawn = [[line for line in _lines(f) if "█" in line] for f in figures]
        assert [len(rows) for rows in drawn] == [10, 10, 10]


@run_async
async def test_too_narrow_for_blocks_falls_back_to_textuals_digits() -> None:
    app = Row(("2", "14", "205"))
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        lines = _lines(app.query_one("#f2", BigFigure))
        assert not any("█" in line for line in lines)
        drawn = [line for line in lines if line.strip() and "figure" not in line]
        assert len(drawn) == 3 and "╰─╴╰─╯╶─╯" in drawn[2]
