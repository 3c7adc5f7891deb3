"""A catalogue item's form answers checked field by field: typed, required, named when refused."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session

from itsm_tui.desk.errors import InvalidInput, NotFound
from itsm_tui.desk.records import check_text, get_agent, get_service
from itsm_tui.i18n import _

# A one-line answer; a textarea holds up to MAX_TEXT_ANSWER.
MAX_LINE_ANSWER = 1_000
MAX_TEXT_ANSWER = 10_000
_YES = ("yes", "y", "true", "1", "on")
_NO = ("no", "n", "false", "0", "off", "")


class FormFieldRefused(InvalidInput):
    """One answer the form cannot take; `field` names it so a screen can mark it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def check_answers(
    session: Session, form: list[dict[str, Any]], answers: dict[str, Any]
) -> dict[str, Any]:
    """Each answer as stored: numbers as numbers, dates as ISO days, names as the desk spells them.

    The first refused field is named (its label and its name); nothing is written.
    """
    fields = {str(f["name"]): f for f in form}
    unknown = sorted(set(answers) - set(fields))
    if unknown:
        raise FormFieldRefused(
            unknown[0],
            _("the form has no field {names}; fields: {fields}").format(
                names=", ".join(unknown), fields=", ".join(fields) or "—"
            ),
        )
    stored: dict[str, Any] = {}
    for name, field in fields.items():
        raw = answers.get(name)
        blank = raw is None or (isinstance(raw, str) and not raw.strip())
        if blank and field.get("kind") != "checkbox":
            if field.get("required"):
                raise FormFieldRefused(name, _("{what} is required").format(what=_label(field)))
            continue
        stored[name] = _answer(session, field, raw)
    return stored


def _label(field: dict[str, Any]) -> str:
    return str(field.get("label") or field["name"])


def _answer(session: Session, field: dict[str, Any], raw: Any) -> Any:
    name, what, kind = str(field["name"]), _label(field), field.get("kind", "text")

    def refuse(message: str) -> FormFieldRefused:
        return FormFieldRefused(name, f"{what}: {message}")

    if kind == "checkbox":
        if isinstance(raw, bool):
            return raw
        word = str(raw or "").strip().lower()
        if word in _YES or word in _NO:
            return word in _YES
        raise refuse(_("{value!r} is not yes or no").format(value=raw))
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise refuse(_("must be text, not {kind}").format(kind=type(raw).__name__))
    text = str(raw).strip()
    try:
        check_text(text, what, limit=MAX_TEXT_ANSWER if kind == "textarea" else MAX_LINE_ANSWER)
    except InvalidInput as exc:
        raise FormFieldRefused(name, exc.message) from None
    if kind == "number":
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite():
            raise refuse(_("{value!r} is not a number").format(value=text))
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "date":
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise refuse(
                _("{value!r} is not a date; write it as 2026-12-24").format(value=text)
            ) from None
    if kind == "choice":
        choices = [str(c) for c in field.get("choices", ())]
        chosen = next((c for c in choices if c.lower() == text.lower()), None)
        if chosen is None:
            raise refuse(
                _("{value!r} is not one of: {choices}").format(
                    value=text, choices=", ".join(choices)
                )
            )
        return chosen
    if kind == "agent":
        try:
            return get_agent(session, text).username
        except NotFound as exc:
            raise refuse(exc.message) from None
    if kind == "service":
        try:
            return get_service(session, text).name
        except NotFound as exc:
            raise refuse(exc.message) from None
    # text and textarea: the words as typed (only the ends trimmed on one line).
    return text if kind == "text" else str(raw)
