"""Reading a TOML table with typed getters that collect problems instead of raising."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from itsm_tui.config.locator import Locator
from itsm_tui.config.vocabulary import _TIME
from itsm_tui.domain.priority import parse_priority
from itsm_tui.i18n import _

# Validation: every problem is collected, then all are raised together.


_MISSING: Any = object()


def _type_name(value: object) -> str:
    if isinstance(value, bool):
        return _("true/false")
    if isinstance(value, int):
        return _("an integer")
    if isinstance(value, Decimal):
        return _("a number")
    if isinstance(value, str):
        return _("text")
    if isinstance(value, datetime):
        return _("a date-time")
    if isinstance(value, date):
        return _("a date")
    if isinstance(value, list):
        return _("an array")
    if isinstance(value, dict):
        return _("a table")
    return type(value).__name__


def _where(filename: str, line: int) -> str:
    return f"{filename}:{line}" if line else filename


class Checker:
    def __init__(self, filename: str, locator: Locator | None) -> None:
        self.filename = filename
        self.locator = locator
        self.errors: list[str] = []
        # Items whose own values had errors: checks across items skip them, so a bad value
        # replaced by its default does not cause a second, misleading error.
        self.tainted: set[int] = set()

    def report(self, path: Sequence[Any], context: str, message: str) -> None:
        if path and self.locator is not None:
            where = _where(self.filename, self.locator.line(path))
        else:
            # Not in this file: the item comes from the store (a section the file leaves alone).
            where = self.filename
            context = _("{context} (in the desk, not in this file)").format(context=context)
        self.errors.append(f"{where}: {context}: {message}" if context else f"{where}: {message}")


class Table:
    """One TOML table being read: typed getters that report instead of raising."""

    def __init__(self, chk: Checker, path: tuple[Any, ...], raw: dict[str, Any], context: str):
        self.chk = chk
        self.path = path
        self.raw = raw
        self.context = context

    def error(self, key: str | tuple[Any, ...] | None, message: str) -> None:
        sub = () if key is None else (key,) if isinstance(key, str) else key
        self.chk.report((*self.path, *sub), self.context, message)

    def check_keys(self, allowed: Iterable[str]) -> None:
        allowed = list(allowed)
        for key in self.raw:
            if key in allowed:
                continue
            message = _("unknown key '{key}'").format(key=key)
            hint = difflib.get_close_matches(key, allowed, n=1)
            if hint:
                message += _(" (did you mean '{hint}'?)").format(hint=hint[0])
            self.error(key, message)

    def _get(self, key: str, required: bool) -> Any:
        if key in self.raw:
            return self.raw[key]
        if required:
            self.error(None, _("'{key}' is missing").format(key=key))
        return _MISSING

    def text(
        self,
        key: str,
        *,
        required: bool = False,
        default: Any = None,
        max_len: int | None = None,
        pattern: re.Pattern[str] | None = None,
        hint: str = "",
    ) -> Any:
        value = self._get(key, required)
        if value is _MISSING:
            return default
        if not isinstance(value, str):
            self.error(
                key, _("{key} must be text, not {kind}").format(key=key, kind=_type_name(value))
            )
            return default
        if required and not value.strip():
            self.error(key, _("{key} must not be empty").format(key=key))
            return default
        if max_len is not None and len(value) > max_len:
            self.error(key, _("{key} is longer than {n} characters").format(key=key, n=max_len))
            return default
        if pattern is not None and not pattern.match(value):
            self.error(
                key,
                _("{key} {value!r} is not valid: {hint}").format(key=key, value=value, hint=hint),
            )
            return default
        return value

    def integer(
        self, key: str, *, lo: int, hi: int, required: bool = False, default: Any = None
    ) -> Any:
        value = self._get(key, required)
        if value is _MISSING:
            return default
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            self.error(
                key,
                _("{key} must be a whole number, not {kind}").format(
                    key=key, kind=_type_name(value)
                ),
            )
            return default
        if isinstance(value, Decimal):
            if not value.is_finite() or value != value.to_integral_value():
                self.error(
                    key, _("{key} must be a whole number, not {value}").format(key=key, value=value)
                )
                return default
            value = int(value)
        if not lo <= value <= hi:
            self.error(
                key,
                _("{key} must be between {lo} and {hi}, not {value}").format(
                    key=key, lo=lo, hi=hi, value=value
                ),
            )
            return default
        return value

    def number(
        self,
        key: str,
        *,
        lo: Decimal,
        hi: Decimal,
        low_open: bool = False,
        places: int | None = None,
        required: bool = False,
        default: Any = None,
        allow_text: bool = False,
    ) -> Any:
        value = self._get(key, required)
        if value is _MISSING:
            return default
        number: Decimal | None = None
        if isinstance(value, Decimal):
            number = value
        elif isinstance(value, int) and not isinstance(value, bool):
            number = Decimal(value)
        elif isinstance(value, str) and allow_text:
            try:
                number = Decimal(value.strip())
            except InvalidOperation:
                number = None
        if number is None or not number.is_finite():
            self.error(key, _("{key} must be a number, not {value!r}").format(key=key, value=value))
            return default
        if number < lo or number > hi or (low_open and number == lo):
            bound = _("above {lo}") if low_open else _("at least {lo}")
            self.error(
                key,
                _("{key} must be {bound} and at most {hi}, not {value}").format(
                    key=key, bound=bound.format(lo=lo), hi=hi, value=number
                ),
            )
            return default
        if places is not None and number != number.quantize(Decimal(1).scaleb(-places)):
            self.error(
                key,
                _("{key} has more than {n} decimal places: {value}").format(
                    key=key, n=places, value=number
                ),
            )
            return default
        return number

    def boolean(self, key: str, *, default: bool) -> bool:
        value = self._get(key, False)
        if value is _MISSING:
            return default
        if not isinstance(value, bool):
            self.error(
                key,
                _("{key} must be true or false, not {kind}").format(
                    key=key, kind=_type_name(value)
                ),
            )
            return default
        return value

    def strings(
        self, key: str, *, choices: Sequence[str] | None = None, default: tuple[str, ...] = ()
    ) -> tuple[str, ...]:
        value = self._get(key, False)
        if value is _MISSING:
            return default
        if not isinstance(value, list):
            self.error(
                key, _("{key} must be an array, not {kind}").format(key=key, kind=_type_name(value))
            )
            return default
        out: list[str] = []
        for i, element in enumerate(value):
            if not isinstance(element, str):
                self.error(
                    (key, i),
                    _("{key} must hold text, not {kind}").format(key=key, kind=_type_name(element)),
                )
            elif choices is not None and element not in choices:
                self.error(
                    (key, i),
                    _("{key}: '{value}' is not one of: {choices}").format(
                        key=key, value=element, choices=", ".join(choices)
                    ),
                )
            elif element in out:
                self.error(
                    (key, i), _("{key}: '{value}' is listed twice").format(key=key, value=element)
                )
            else:
                out.append(element)
        return tuple(out)

    def priorities(self, key: str) -> tuple[int, ...]:
        value = self._get(key, False)
        if value is _MISSING:
            return ()
        if not isinstance(value, list):
            self.error(
                key, _("{key} must be an array, not {kind}").format(key=key, kind=_type_name(value))
            )
            return ()
        out: list[int] = []
        for i, element in enumerate(value):
            number = _priority(element)
            if number is None:
                self.error(
                    (key, i),
                    _("{key}: {value!r} is not a priority P1–P4").format(key=key, value=element),
                )
            elif number in out:
                self.error(
                    (key, i), _("{key}: P{value} is listed twice").format(key=key, value=number)
                )
            else:
                out.append(number)
        return tuple(sorted(out))

    def timezone(self, key: str, *, required: bool = False, default: Any = None) -> Any:
        value = self.text(key, required=required, default=_MISSING)
        if value is _MISSING or value is None:
            return default
        if not _valid_zone(value):
            self.error(
                key,
                _("{key} '{value}' is not an IANA time zone (e.g. Asia/Shanghai, UTC)").format(
                    key=key, value=value
                ),
            )
            return default
        return value

    def table(
        self, key: str, context: str | None = None, *, required: bool = False
    ) -> Table | None:
        value = self._get(key, required)
        if value is _MISSING:
            return None
        if not isinstance(value, dict):
            self.error(
                key, _("{key} must be a table, not {kind}").format(key=key, kind=_type_name(value))
            )
            return None
        return Table(self.chk, (*self.path, key), value, context or self.context)

    def tables(
        self, key: str, *, required: bool = False
    ) -> list[tuple[int, dict[str, Any]]] | None:
        """An array of tables: [(index, table)], or None when absent or not an array."""
        value = self._get(key, required)
        if value is _MISSING:
            return None
        if not isinstance(value, list):
            self.error(
                key,
                _("{key} must be an array of tables (write [[{key}]]), not {kind}").format(
                    key=key, kind=_type_name(value)
                ),
            )
            return None
        out = []
        for i, element in enumerate(value):
            if isinstance(element, dict):
                out.append((i, element))
            else:
                self.error(
                    (key, i),
                    _("{key} must hold tables, not {kind}").format(
                        key=key, kind=_type_name(element)
                    ),
                )
        return out


def _priority(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        return parse_priority(value)
    except ValueError:
        return None


@lru_cache(maxsize=512)
def _valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _minutes(hhmm: str) -> int:
    match = _TIME.match(hhmm)
    assert match is not None
    hours = match.group(1) or match.group(3)
    mins = match.group(2) or match.group(4)
    return int(hours) * 60 + int(mins)


def _label(kind: str, name: object, index: int) -> str:
    if isinstance(name, str) and name:
        return f"{kind} '{name}'"
    return f"{kind} #{index + 1}"


def _duplicate(t: Table, seen: dict[Any, int], key: Any, field_name: str, label: str) -> bool:
    """Report `label` when `key` was seen before in this scope; remember it otherwise."""
    if key in seen:
        t.error(
            field_name,
            _("{label} is defined twice (first on line {line})").format(
                label=label, line=seen[key]
            ),
        )
        return True
    seen[key] = t.chk.locator.line(t.path) if t.chk.locator else 0
    return False
