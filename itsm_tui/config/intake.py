"""The desk file's [intake] section: how alerts from monitoring become incidents.

Its typed form, its parsing, how the store keeps it and how it is written back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from itsm_tui.config.checker import Table
from itsm_tui.config.vocabulary import _NAME_MAX, _USERNAME
from itsm_tui.i18n import _

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class IntakeRule:
    """Alerts whose labels hold every `match` value (one of a list) get these settings."""

    match: Mapping[str, tuple[str, ...]]
    impact: int | None = None
    urgency: int | None = None
    service: str | None = None
    team: str | None = None

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(labels.get(key) in values for key, values in self.match.items())


@dataclass(frozen=True)
class IntakeSettings:
    """[intake]: who writes alerts' incidents, how they are triaged, grouped and closed."""

    # The agent the intake writes as (its audit events name it): needs the agent role.
    agent: str
    # sha256 (hex) of the bearer token senders present; ITSM_INTAKE_TOKEN is the other way.
    token_sha256: str | None = None
    # A resolved alert resolves its incident (else it only adds a work note).
    resolve_incidents: bool = True
    # This many open alerts of one sender group are gathered under a major incident (0: never).
    major_incident_at: int = 0
    # The label naming the affected service when no rule names one.
    service_label: str = "service"
    impact: int = 2
    urgency: int = 2
    category: str = "monitoring"
    rules: tuple[IntakeRule, ...] = ()
    path: tuple[Any, ...] = field(default=(), compare=False, repr=False)

    def triage(self, labels: Mapping[str, str]) -> tuple[int, int, str | None, str | None]:
        """Impact, urgency, service and team for an alert's labels: the first rule that
        matches, the section's defaults for what it leaves out."""
        rule = next((r for r in self.rules if r.matches(labels)), None)
        service = labels.get(self.service_label) or None
        if rule is None:
            return self.impact, self.urgency, service, None
        return (
            rule.impact or self.impact,
            rule.urgency or self.urgency,
            rule.service or service,
            rule.team,
        )


_KEYS = (
    "agent",
    "token_sha256",
    "resolve_incidents",
    "major_incident_at",
    "service_label",
    "impact",
    "urgency",
    "category",
    "rules",
)
_RULE_KEYS = ("match", "impact", "urgency", "service", "team")


def parse_intake(t: Table) -> IntakeSettings:
    t.check_keys(_KEYS)
    defaults = IntakeSettings(agent="")
    agent = t.text("agent", required=True, default="", pattern=_USERNAME, hint=_("a user name"))
    token = t.text("token_sha256")
    if token is not None and not _SHA256.match(token):
        t.error(
            "token_sha256",
            _("token_sha256 must be 64 lowercase hex digits (itsm intake token prints it)"),
        )
        token = None
    rules = []
    for i, raw in t.tables("rules") or ():
        rule = _parse_rule(Table(t.chk, (*t.path, "rules", i), raw, f"intake rule {i + 1}"))
        if rule is not None:
            rules.append(rule)
    return IntakeSettings(
        agent=agent,
        token_sha256=token,
        resolve_incidents=t.boolean("resolve_incidents", default=defaults.resolve_incidents),
        major_incident_at=t.integer("major_incident_at", lo=0, hi=10_000, default=0),
        service_label=t.text(
            "service_label",
            default=defaults.service_label,
            pattern=_LABEL,
            hint=_("a Prometheus label name"),
        ),
        impact=t.integer("impact", lo=1, hi=3, default=defaults.impact),
        urgency=t.integer("urgency", lo=1, hi=3, default=defaults.urgency),
        category=t.text("category", default=defaults.category, max_len=80),
        rules=tuple(rules),
        path=t.path,
    )


def _parse_rule(t: Table) -> IntakeRule | None:
    t.check_keys(_RULE_KEYS)
    match_table = t.table("match", required=True)
    match: dict[str, tuple[str, ...]] = {}
    if match_table is not None:
        for key, value in match_table.raw.items():
            if not _LABEL.match(key):
                match_table.error(key, _("'{key}' is not a label name").format(key=key))
                continue
            values = (value,) if isinstance(value, str) else match_table.strings(key)
            if not values:
                match_table.error(key, _("{key} must be text or an array of text").format(key=key))
                continue
            match[key] = tuple(values)
        if not match_table.raw:
            t.error("match", _("match must name at least one label"))
    return IntakeRule(
        match=match,
        impact=t.integer("impact", lo=1, hi=3),
        urgency=t.integer("urgency", lo=1, hi=3),
        service=t.text("service", max_len=_NAME_MAX),
        team=t.text("team", max_len=_NAME_MAX),
    )


def intake_value(s: IntakeSettings) -> dict[str, Any]:
    """How the store keeps the section (desk_settings 'intake')."""
    return {
        "agent": s.agent,
        "token_sha256": s.token_sha256,
        "resolve_incidents": s.resolve_incidents,
        "major_incident_at": s.major_incident_at,
        "service_label": s.service_label,
        "impact": s.impact,
        "urgency": s.urgency,
        "category": s.category,
        "rules": [_rule_value(r) for r in s.rules],
    }


def _rule_value(r: IntakeRule) -> dict[str, Any]:
    return {
        "match": {k: list(v) for k, v in r.match.items()},
        "impact": r.impact,
        "urgency": r.urgency,
        "service": r.service,
        "team": r.team,
    }


def intake_from_value(v: Mapping[str, Any]) -> IntakeSettings:
    return IntakeSettings(
        agent=str(v["agent"]),
        token_sha256=v.get("token_sha256"),
        resolve_incidents=bool(v.get("resolve_incidents", True)),
        major_incident_at=int(v.get("major_incident_at", 0)),
        service_label=str(v.get("service_label", "service")),
        impact=int(v.get("impact", 2)),
        urgency=int(v.get("urgency", 2)),
        category=str(v.get("category", "monitoring")),
        rules=tuple(
            IntakeRule(
                match={k: tuple(vals) for k, vals in r["match"].items()},
                impact=r.get("impact"),
                urgency=r.get("urgency"),
                service=r.get("service"),
                team=r.get("team"),
            )
            for r in v.get("rules", ())
        ),
    )


def intake_dump(s: IntakeSettings) -> list[tuple[str, dict[str, Any]]]:
    """The section as (header, pairs) for the desk-file writer, defaults left out."""
    defaults = IntakeSettings(agent=s.agent)
    values = {
        k: v
        for k, v in intake_value(s).items()
        if k != "rules" and (k == "agent" or v != getattr(defaults, k))
    }
    out: list[tuple[str, dict[str, Any]]] = [("intake", values)]
    for r in s.rules:
        pairs = _rule_value(r)
        pairs["match"] = {k: v[0] if len(v) == 1 else v for k, v in pairs["match"].items()}
        out.append(("[intake.rules]", pairs))
    return out
