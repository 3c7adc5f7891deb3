"""The queue's filter line: `key:value` terms with quoted values, resolved to a query, and
completed as they are typed."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, tzinfo

from textual.binding import Binding, BindingType
from textual.suggester import Suggester
from textual.widgets import Input

from itsm_tui.data.directory import DeskDirectory
from itsm_tui.data.kpi.period import Period, period_between
from itsm_tui.data.queue_views import QueueQuery
from itsm_tui.data.sla_standing import STANDINGS as SLA_STATES
from itsm_tui.domain.priority import PRIORITIES, parse_priority
from itsm_tui.domain.workflow import TICKET_TYPES, all_statuses
from itsm_tui.i18n import _

FILTER_KEYS = (
    "status",
    "priority",
    "type",
    "team",
    "assignee",
    "service",
    "sla",
    "opened",
    "resolved",
)
# `opened:` and `resolved:` take local days of the desk's zone: one, or a first and a last.
DAY_RANGE = ".."
_QUOTES = "\"'"


@dataclass(frozen=True)
class Term:
    """One `key:value` of the filter line; `start` is where it begins in the text."""

    key: str
    value: str
    start: int
    # The value's opening quote, if it had one ("" for a bare value).
    quote: str = ""
    # False while the text ends inside the value's quotes (only when read leniently).
    closed: bool = True


def split_terms(text: str, *, lenient: bool = False) -> list[Term]:
    """The terms of a filter line. A value is bare (up to the next space) or quoted with
    ' or ", in which \\ escapes the next character (`team:"Service Desk"`,
    `service:'Bob\\'s printer'`). Raises ValueError on a quote left open, unless
    `lenient` (completion reads a line still being typed)."""
    terms: list[Term] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        start = i
        while i < n and not text[i].isspace() and text[i] != ":" and text[i] not in _QUOTES:
            i += 1
        key = text[start:i]
        if i < n and text[i] == ":":
            i += 1
        quote = text[i] if i < n and text[i] in _QUOTES else ""
        value: list[str] = []
        closed = True
        if quote:
            i += 1
            closed = False
            while i < n:
                ch = text[i]
                if ch == "\\" and i + 1 < n:
                    value.append(text[i + 1])
                    i += 2
                    continue
                i += 1
                if ch == quote:
                    closed = True
                    break
                value.append(ch)
            if not closed and not lenient:
                raise ValueError(_("the quote after {key}: is not closed").format(key=key or "…"))
            if closed and i < n and not text[i].isspace():
                raise ValueError(
                    _("put a space after the closing quote of {key}:").format(key=key or "…")
                )
        else:
            while i < n and not text[i].isspace():
                value.append(text[i])
                i += 1
        has_colon = start + len(key) < n and text[start + len(key)] == ":"
        terms.append(
            Term(
                key if has_colon else "", "".join(value) if has_colon else key, start, quote, closed
            )
        )
    return terms


def quoted(value: str) -> str:
    """A value as the filter line writes it: bare when it can be, else in double quotes."""
    if value and not any(ch.isspace() or ch in _QUOTES or ch == "\\" for ch in value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def describe(chosen: dict[str, str]) -> str:
    """The terms in effect, written back as the filter line would take them."""
    return " ".join(f"{key}:{quoted(value)}" for key, value in chosen.items())


def _names(directory: DeskDirectory | None, key: str) -> list[str]:
    """Every value a key can take, in the order completion offers them."""
    if key == "status":
        return list(all_statuses())
    if key == "priority":
        return [f"P{p}" for p in PRIORITIES]
    if key == "type":
        return list(TICKET_TYPES)
    if key == "sla":
        return list(SLA_STATES)
    if directory is None:
        return []
    return list(_directory_names(directory, key))


def _directory_names(directory: DeskDirectory, key: str) -> dict[str, int]:
    return {"team": directory.teams, "assignee": directory.agents}.get(key, directory.services)


def apply_filter_text(
    base: QueueQuery, text: str, directory: DeskDirectory | None
) -> tuple[QueueQuery, dict[str, str]]:
    """The filter line on top of a view: (the query, the terms in effect by key). Raises
    ValueError with one line for a person when a term is malformed or names nothing."""
    chosen: dict[str, str] = {}
    for term in split_terms(text):
        if term.key not in FILTER_KEYS or not term.value:
            raise ValueError(
                _("write filters as key:value with key one of {keys}").format(
                    keys=", ".join(FILTER_KEYS)
                )
            )
        if term.key in chosen:
            raise ValueError(_("{key}: is given twice").format(key=term.key))
        chosen[term.key] = term.value
    f = base.filters
    query = base
    for key, value in chosen.items():
        if key == "status":
            if value.lower() not in all_statuses():
                raise ValueError(_("no status {value!r}").format(value=value))
            f = replace(f, statuses=(value.lower(),))
        elif key == "priority":
            try:
                f = replace(f, priority=parse_priority(value))
            except ValueError:
                raise ValueError(
                    _("no priority {value!r}; use P1 to P4").format(value=value)
                ) from None
        elif key == "type":
            if value.lower() not in TICKET_TYPES:
                raise ValueError(_("no ticket type {value!r}").format(value=value))
            f = replace(f, type=value.lower())
        elif key == "sla":
            if value.lower() not in SLA_STATES:
                raise ValueError(
                    _("no SLA state {value!r}; use {states}").format(
                        value=value, states=", ".join(SLA_STATES)
                    )
                )
            query = replace(query, sla_state=value.lower())
        elif key in ("opened", "resolved"):
            period = day_range(key, value, directory.zone if directory else UTC)
            if key == "opened":
                query = replace(query, opened_since=period.start, opened_until=period.end)
            else:
                # In place of a view's own "since" (Recently resolved): the days asked for.
                query = replace(query, resolved_since=period.start, resolved_until=period.end)
        elif key == "team":
            f = replace(f, team_id=_lookup(directory, key, value))
        elif key == "assignee":
            f = replace(f, assignee_id=_lookup(directory, key, value), unassigned=False)
        else:
            query = replace(query, service_id=_lookup(directory, key, value))
    return replace(query, filters=f), chosen


def day_range(key: str, value: str, zone: tzinfo) -> Period:
    """`2026-11-01..2026-11-30` or `2026-11-24`: those local days, as the KPIs' periods
    count them (from the first day's midnight to the midnight after the last)."""
    first_text, dots, last_text = value.partition(DAY_RANGE)
    try:
        first = date.fromisoformat(first_text.strip())
        last = date.fromisoformat(last_text.strip()) if dots else first
    except ValueError:
        raise ValueError(
            _(
                "{key}: takes days as 2026-11-01..2026-11-30 or one day 2026-11-24, not {value!r}"
            ).format(key=key, value=value)
        ) from None
    if last < first:
        raise ValueError(
            _("{key}: the last day {last} is before the first {first}").format(
                key=key, last=last.isoformat(), first=first.isoformat()
            )
        )
    return period_between(first, last, zone)


def _lookup(directory: DeskDirectory | None, key: str, value: str) -> int:
    table = _directory_names(directory, key) if directory else {}
    for name, ident in table.items():
        if name.casefold() == value.casefold():
            return ident
    what = {"team": _("team"), "assignee": _("agent"), "service": _("service")}[key]
    # `team:Service_Desk` or `team:Service` meant a name with a space: say how to write it.
    spaced = value.replace("_", " ").casefold()
    for name in table:
        if name.casefold() == spaced or (" " in name and name.casefold().startswith(spaced)):
            raise ValueError(
                _("no {what} named {value!r}; did you mean {hint}?").format(
                    what=what, value=value, hint=f"{key}:{quoted(name)}"
                )
            )
    raise ValueError(_("no {what} named {value!r}").format(what=what, value=value))


class FilterSuggester(Suggester):
    """Completes the term being typed: a key, then one of its values (statuses, priorities,
    types, SLA states, and the desk's teams, agents and services from the directory the
    screen read in a worker). A value that needs quotes is quoted when accepted."""

    def __init__(self) -> None:
        # Not cached: the directory arrives after the first keys may have been typed.
        super().__init__(use_cache=False, case_sensitive=True)
        self.directory: DeskDirectory | None = None
        # What accepting a shown suggestion writes (the quoted form of the last value).
        self.accepted: dict[str, str] = {}

    async def get_suggestion(self, value: str) -> str | None:
        return self.complete(value)

    def complete(self, text: str) -> str | None:
        """The suggestion shown after `text` (it starts with `text`), or None."""
        if not text or text[-1].isspace():
            return None
        try:
            terms = split_terms(text, lenient=True)
        except ValueError:
            return None
        last = terms[-1]
        head = text[: last.start]
        if not last.key:
            typed = last.value.casefold()
            for key in FILTER_KEYS:
                if key.startswith(typed) and key != typed:
                    return text + key[len(typed) :] + ":"
            return None
        if last.key not in FILTER_KEYS or (last.quote and last.closed):
            return None
        typed = last.value.casefold()
        for name in _names(self.directory, last.key):
            if name.casefold().startswith(typed) and len(name) > len(last.value):
                # The ghost text continues what was typed; accepting writes it quoted.
                shown = text + name[len(last.value) :] + (last.quote or "")
                self.accepted = {shown: f"{head}{last.key}:{quoted(name)}"}
                return shown
        return None


class FilterInput(Input):
    """The filter line: → or Tab at the end takes the suggestion, quoted as it must be."""

    BINDINGS: list[BindingType] = [
        Binding("tab", "complete", _("Complete"), show=False),
    ]

    def action_cursor_right(self, select: bool = False) -> None:
        if not select and self.cursor_at_end and self._suggestion:
            self.action_complete()
            return
        super().action_cursor_right(select)

    def action_complete(self) -> None:
        suggestion = self._suggestion
        if not suggestion:
            # Nothing to complete: Tab moves on as it does everywhere else.
            self.screen.focus_next()
            return
        accepted = suggestion
        if isinstance(self.suggester, FilterSuggester):
            accepted = self.suggester.accepted.get(suggestion, suggestion)
        self.value = accepted
        self.cursor_position = len(accepted)
