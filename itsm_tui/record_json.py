"""Export records as plain JSON values and back, by their dataclass fields' types.

One rule for every record family a desk export carries besides the ticket's own
columns (clocks, time entries, surveys, changes, outages…): a time is ISO 8601 in UTC,
a date ISO 8601, money a decimal string (never a float: cents must survive), a nested
record an object and a list of them a JSON list. Reading checks every value's type and
names the field of the first wrong one.
"""

from __future__ import annotations

import types
import typing
from dataclasses import MISSING, fields, is_dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from itsm_tui.desk.errors import InvalidInput
from itsm_tui.desk.records import as_utc
from itsm_tui.i18n import _


def to_json(record: Any) -> dict[str, Any]:
    """The record's fields in declaration order as JSON values."""
    return {f.name: _out(getattr(record, f.name)) for f in fields(record) if f.name != "source"}


def _out(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if is_dataclass(value) and not isinstance(value, type):
        return to_json(value)
    if isinstance(value, tuple):
        return [_out(v) for v in value]
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_json(cls: type[Any], data: object, what: str) -> Any:
    """A `cls` from a JSON object; InvalidInput naming `what` and the field when wrong."""
    if not isinstance(data, dict):
        raise InvalidInput(_("{what} must be a JSON object").format(what=what))
    known = [f for f in fields(cls) if f.name != "source"]
    names = [f.name for f in known]
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise InvalidInput(
            _("{what}: unknown key {keys}; it has {known}").format(
                what=what, keys=", ".join(unknown), known=", ".join(names)
            )
        )
    required = [
        f.name
        for f in known
        if f.default is MISSING and f.default_factory is MISSING and data.get(f.name) is None
    ]
    if required:
        raise InvalidInput(_("{what}: missing {keys}").format(what=what, keys=", ".join(required)))
    hints = _hints(cls)
    values = {
        name: _in(hints[name], raw, f"{what} {name}")
        for name, raw in data.items()
        if raw is not None
    }
    return cls(**values)


def field_from_json(cls: type[Any], name: str, raw: object, what: str) -> Any:
    """One field of `cls` from its JSON value (None: the field's default)."""
    if raw is None:
        default = next(f for f in fields(cls) if f.name == name)
        return None if default.default is MISSING else default.default
    return _in(_hints(cls)[name], raw, what)


def json_value(value: Any) -> Any:
    """A record, a tuple of records or a plain value as JSON values."""
    return _out(value)


def _in(hint: Any, raw: object, what: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        # Optional[X]: None never reaches here (an absent value takes the field's default).
        (inner,) = [a for a in typing.get_args(hint) if a is not type(None)]
        return _in(inner, raw, what)
    if origin is tuple:
        item = typing.get_args(hint)[0]
        if not isinstance(raw, list):
            raise InvalidInput(_("{what} must be a list").format(what=what))
        return tuple(_in(item, v, f"{what} {n}") for n, v in enumerate(raw, start=1))
    if origin is list:
        if not isinstance(raw, list):
            raise InvalidInput(_("{what} must be a list").format(what=what))
        return raw
    if origin is dict:
        if not isinstance(raw, dict):
            raise InvalidInput(_("{what} must be a JSON object").format(what=what))
        return raw
    if hint is Any:
        return raw
    if is_dataclass(hint):
        return from_json(hint, raw, what)
    if hint is bool:
        if not isinstance(raw, bool):
            raise InvalidInput(_("{what} must be true or false").format(what=what))
        return raw
    if hint is int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise InvalidInput(
                _("{what} must be a whole number, not {value!r}").format(what=what, value=raw)
            )
        return raw
    if hint is str:
        if not isinstance(raw, str):
            raise InvalidInput(_("{what} must be text").format(what=what))
        return raw
    if hint is Decimal:
        try:
            if isinstance(raw, bool) or not isinstance(raw, str | int):
                raise InvalidOperation
            amount = Decimal(raw)
            if not amount.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            raise InvalidInput(
                _('{what} must be an amount written as text, e.g. "12.50", not {value!r}').format(
                    what=what, value=raw
                )
            ) from None
        return amount
    if hint is datetime:
        return time_from_json(raw, what)
    if hint is date:
        try:
            if not isinstance(raw, str):
                raise ValueError
            return date.fromisoformat(raw.strip())
        except ValueError:
            raise InvalidInput(
                _("{what} must be a date like 2026-11-01, not {value!r}").format(
                    what=what, value=raw
                )
            ) from None
    raise TypeError(f"no JSON rule for {hint!r}")  # a programming error, not bad input


def time_from_json(raw: object, what: str) -> datetime:
    """An ISO 8601 time with a zone, in UTC; refused naming `what` otherwise."""
    if not isinstance(raw, str):
        raise InvalidInput(_("{what} must be a time written as text").format(what=what))
    try:
        at = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(
            _(
                "{what} {value!r} is not a time; write ISO 8601 with a zone, "
                "e.g. 2026-11-24T09:30:00Z"
            ).format(what=what, value=raw)
        ) from None
    return as_utc(at, what)
