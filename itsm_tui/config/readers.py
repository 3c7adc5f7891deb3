"""Settings the rest of the desk reads from the store, with the default desk's as fallback."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from itsm_tui.config.intake import IntakeSettings, intake_from_value
from itsm_tui.config.load import load_default_desk
from itsm_tui.config.model import ServeSettings, _kpi_value
from itsm_tui.config.rotations import as_rotation, rotations_from_value
from itsm_tui.config.store import _change_templates_value, _change_types_value, _risk_value
from itsm_tui.config.vocabulary import DESK_DEFAULTS, KPI_TARGET_KEYS
from itsm_tui.data.models import (
    DeskSetting,
)
from itsm_tui.domain.change_risk import level_for_score
from itsm_tui.domain.oncall import Rotation


def kpi_targets(session: Session) -> dict[str, int | float]:
    """Every KPI target: the desk's own, else the default desk's (the source document's)."""
    defaults = load_default_desk().kpi_targets
    merged: dict[str, int | float] = dict(_kpi_value(defaults)) if defaults else {}
    row = session.get(DeskSetting, "kpi_targets")
    if row is not None and isinstance(row.value, dict):
        merged.update(
            {
                k: v
                for k, v in row.value.items()
                if k in KPI_TARGET_KEYS and isinstance(v, int | float)
            }
        )
    return merged


def desk_settings(session: Session) -> dict[str, Any]:
    """The [desk] table: name, timezone, default_calendar (defaults when never configured)."""
    row = session.get(DeskSetting, "desk")
    value = row.value if row is not None and isinstance(row.value, dict) else {}
    return {k: value.get(k, default) for k, default in DESK_DEFAULTS.items()}


def change_types(session: Session) -> dict[str, dict[str, Any]]:
    """Change type → its rules (cab_required, lead_time_hours, quorum, approvals per risk
    level, cab (the emergency CAB's members), review_required, review_days).

    The default desk's when the desk has none.
    """
    row = session.get(DeskSetting, "change_types")
    if row is not None and isinstance(row.value, dict):
        return dict(row.value)
    return _change_types_value(load_default_desk().change_types or ())


def risk_questionnaire(session: Session) -> dict[str, Any]:
    """The questionnaire as stored (the default desk's when the desk has none).

    {"questions": [{"id", "text", "answers": [{"value", "label", "weight"}]}],
     "thresholds": {"low": 0, "medium": …, "high": …}}
    """
    row = session.get(DeskSetting, "risk_questionnaire")
    if row is not None and isinstance(row.value, dict):
        return dict(row.value)
    default = load_default_desk().risk_questionnaire
    assert default is not None
    return _risk_value(default)


def risk_level(thresholds: Mapping[str, int], score: int) -> str:
    """The highest level whose threshold the score reaches ("low" below every other)."""
    return level_for_score(thresholds, score)


def change_templates(session: Session) -> dict[str, dict[str, Any]]:
    """Standard-change template name → its fields (title, services, plans, duration, risk).

    The default desk's when the desk never configured any.
    """
    row = session.get(DeskSetting, "change_templates")
    if row is not None and isinstance(row.value, dict):
        return dict(row.value)
    return _change_templates_value(load_default_desk().change_templates or ())


def serve_settings(session: Session) -> ServeSettings:
    """The limits of remote sessions ([serve]); the defaults when the desk sets none."""
    row = session.get(DeskSetting, "serve")
    value = row.value if row is not None and isinstance(row.value, dict) else {}
    defaults = ServeSettings()
    return ServeSettings(
        **{
            key: int(value[key]) if isinstance(value.get(key), int) else getattr(defaults, key)
            for key in (
                "max_sessions",
                "max_sessions_per_agent",
                "idle_timeout_minutes",
                "keepalive_seconds",
            )
        }
    )


def intake_settings(session: Session) -> IntakeSettings | None:
    """[intake] as applied; None when the desk takes no alerts (or its setting is unreadable)."""
    row = session.get(DeskSetting, "intake")
    if row is None or not isinstance(row.value, dict):
        return None
    try:
        return intake_from_value(row.value)
    except (KeyError, TypeError, ValueError):
        return None


def oncall_rotations(session: Session) -> dict[str, Rotation]:
    """Team name → its on-call rota ([[rotations]]); empty when the desk has none."""
    row = session.get(DeskSetting, "rotations")
    if row is None or not isinstance(row.value, dict):
        return {}
    return {r.team: as_rotation(r) for r in rotations_from_value(row.value)}
