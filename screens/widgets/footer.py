"""The footer of key bindings, fitted to the terminal and rebuilt only when it changes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

# Drawn last, in this order, and kept however narrow the terminal is (help lists every
# key the footer had no room for; the inbox is where a missed toast is found again).
TRAILING = ("inbox", "help")


@dataclass(frozen=True)
class FooterItem:
    """One key as the footer draws it."""

    key: str
    display: str
    description: str
    action: str
    enabled: bool
    tooltip: str

    def width(self, *, compact: bool) -> int:
        # FooterKey's own CSS: " key " + "desc " wide, or "key desc" + a margin compact.
        return cell_len(self.display) + cell_len(self.description) + (2 if compact else 3)


@dataclass(frozen=True)
class FooterFit:
    items: tuple[FooterItem, ...]
    palette: FooterItem | None
    compact: bool


def _palette_width(item: FooterItem, *, compact: bool) -> int:
    # Docked right behind a one-cell border; compact drops its right padding.
    return 1 + item.width(compact=compact) - (1 if compact else 0)


def fit_footer(items: Sequence[FooterItem], palette: FooterItem | None, width: int) -> FooterFit:
    """What fits in `width` cells: every key in full if it can; else compact; else compact
    without the palette key (ctrl+p still works) and the last keys dropped first, keeping
    the TRAILING ones, which go last."""

    def needed(keys: Sequence[FooterItem], pal: FooterItem | None, compact: bool) -> int:
        total = sum(k.width(compact=compact) for k in keys)
        return total + (_palette_width(pal, compact=compact) if pal else 0)

    items = [k for k in items if k.action not in TRAILING] + sorted(
        (k for k in items if k.action in TRAILING), key=lambda k: TRAILING.index(k.action)
    )
    for compact in (False, True):
        if needed(items, palette, compact) <= width:
            return FooterFit(tuple(items), palette, compact)
    kept = list(items)
    while needed(kept, None, True) > width:
        droppable = [i for i, k in enumerate(kept) if k.action not in TRAILING]
        if not droppable:
            break
        del kept[droppable[-1]]
    return FooterFit(tuple(kept), None, True)


class DeskFooter(Footer):
    """Textual's footer, with two changes an agent notices.

    - It fits the terminal: at 80 columns the first keys and `?` show instead of the
      line being cut wherever it ends.
    - It is rebuilt only when what it shows changes. Textual's footer recomposes on every
      focus change; with a dozen keys that is tens of milliseconds of restyling right when
      a search or a filter is submitted and the new rows should be drawing.
    """

    def __init__(self) -> None:
        super().__init__()
        self._shown: FooterFit | None = None

    def _items(self) -> tuple[list[FooterItem], FooterItem | None]:
        items: list[FooterItem] = []
        seen: set[str] = set()
        palette: FooterItem | None = None
        palette_key = self.app.COMMAND_PALETTE_BINDING
        for key, (_node, binding, enabled, tooltip) in self.screen.active_bindings.items():
            item = self._item(binding, enabled, tooltip)
            if key == palette_key and self.show_command_palette:
                if self.app.ENABLE_COMMAND_PALETTE:
                    palette = item
                continue
            # One key per action: the first bound (as Textual's footer shows them).
            if binding.show and binding.action not in seen:
                seen.add(binding.action)
                items.append(item)
        return items, palette

    def _item(self, binding: Binding, enabled: bool, tooltip: str) -> FooterItem:
        return FooterItem(
            key=binding.key,
            display=self.app.get_key_display(binding),
            description=binding.description,
            action=binding.action,
            enabled=enabled,
            tooltip=tooltip or binding.tooltip or binding.description,
        )

    def _fit(self) -> FooterFit:
        items, palette = self._items()
        return fit_footer(items, palette, self.size.width or self.app.size.width)

    def compose(self) -> ComposeResult:
        # Textual's footer draws nothing until the screen first says its bindings changed,
        # then recomposes: on a new screen that is a second full frame (12 KB over SSH) and
        # 0.1 to 0.3 s of mounting. The keys are known once the footer is on its screen;
        # the signal then finds them as drawn and nothing is rebuilt.
        if not self._bindings_ready and not self.is_attached:
            return
        fit = self._fit()
        self._shown = fit
        self.set_class(fit.compact, "-compact")
        self.set_reactive(Footer.compact, fit.compact)
        for item in fit.items:
            yield self._key(item, fit.compact)
        if fit.palette is not None:
            yield self._key(fit.palette, fit.compact, classes="-command-palette")

    @staticmethod
    def _key(item: FooterItem, compact: bool, classes: str = "") -> FooterKey:
        key = FooterKey(
            item.key,
            item.display,
            item.description,
            item.action,
            disabled=not item.enabled,
            tooltip=item.tooltip,
            classes=classes,
        )
        key.set_reactive(FooterKey.compact, compact)
        key.set_class(compact, "-compact")
        return key

    async def _rebuild_if_changed(self) -> None:
        if self.is_attached and self._bindings_ready and self._fit() != self._shown:
            await self.recompose()

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen:
            self.call_after_refresh(self._rebuild_if_changed)

    def on_resize(self, _event: events.Resize) -> None:
        self.call_after_refresh(self._rebuild_if_changed)
