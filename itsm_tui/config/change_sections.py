"""Parsing the change process's desk-file sections: change types, templates, risk."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from itsm_tui.config.checker import Table, _duplicate, _label
from itsm_tui.config.model import (
    ChangeTemplateConfig,
    ChangeTypeConfig,
    RiskAnswer,
    RiskQuestion,
    RiskQuestionnaire,
)
from itsm_tui.config.vocabulary import _CODE, _IDENTIFIER, _USERNAME, RISK_LEVELS, RISK_RULES
from itsm_tui.domain.change_process import parse_approvals
from itsm_tui.domain.workflow import CHANGE_TYPES
from itsm_tui.i18n import _


def _parse_change_types(t: Table) -> tuple[ChangeTypeConfig, ...]:
    t.check_keys(CHANGE_TYPES)
    out: list[ChangeTypeConfig] = []
    for name in CHANGE_TYPES:
        ct = t.table(name, _("change type '{name}'").format(name=name))
        if ct is None:
            if name not in t.raw:
                t.error(
                    None,
                    _("change type '{name}' is missing: [change_types.{name}]").format(name=name),
                )
            continue
        ct.check_keys(
            (
                "description",
                "cab_required",
                "pre_approved",
                "lead_time_hours",
                "quorum",
                "approvals",
                "cab",
                "review_required",
                "review_days",
            )
        )
        cab = ct.boolean("cab_required", default=False)
        pre = ct.boolean("pre_approved", default=False)
        quorum = ct.integer("quorum", lo=0, hi=50, default=1 if cab else 0)
        if cab and pre:
            ct.error("pre_approved", _("a pre-approved change type cannot also need the CAB"))
        if cab and quorum == 0:
            ct.error("quorum", _("quorum must be at least 1 when cab_required = true"))
        if not cab and quorum:
            ct.error("quorum", _("quorum is only meaningful when cab_required = true"))
        approvals = _approvals(ct)
        if approvals and not cab:
            ct.error("approvals", _("approvals are only meaningful when cab_required = true"))
        members = ct.strings("cab")
        for i, member in enumerate(members):
            if not _USERNAME.match(member):
                ct.error(("cab", i), _("cab: {name!r} is not a user name").format(name=member))
        if members and not cab:
            ct.error("cab", _("cab is only meaningful when cab_required = true"))
        out.append(
            ChangeTypeConfig(
                name=name,
                description=ct.text("description", default=""),
                cab_required=cab,
                pre_approved=pre,
                lead_time_hours=ct.integer("lead_time_hours", lo=0, hi=8760, default=0),
                quorum=quorum,
                approvals=approvals,
                cab=members,
                review_required=ct.boolean("review_required", default=False),
                review_days=ct.integer("review_days", lo=0, hi=365, default=14),
                path=ct.path,
            )
        )
    return tuple(out)


def _approvals(ct: Table) -> dict[str, int | str]:
    """`approvals = { low = 1, high = "50%" }`: per risk level a count or a share of the CAB."""
    at = ct.table("approvals")
    if at is None:
        return {}
    at.check_keys(RISK_LEVELS)
    out: dict[str, int | str] = {}
    for level in RISK_LEVELS:
        if level not in at.raw:
            continue
        raw = at.raw[level]
        try:
            kind, n = parse_approvals(int(raw) if isinstance(raw, Decimal) else raw)
        except (ValueError, TypeError):
            at.error(
                level,
                _(
                    "{level} must be a number of approvals from 1 to 50 or a share of the "
                    'CAB such as "50%", not {value!r}'
                ).format(level=level, value=raw if not isinstance(raw, Decimal) else str(raw)),
            )
            continue
        out[level] = n if kind == "count" else f"{n}%"
    return out


def _parse_change_template(t: Table) -> ChangeTemplateConfig | None:
    t.check_keys(
        (
            "name",
            "title",
            "description",
            "category",
            "services",
            "implementation_plan",
            "backout_plan",
            "test_plan",
            "duration_minutes",
            "risk",
        )
    )
    name = t.text(
        "name", required=True, max_len=80, pattern=_CODE, hint=_("letters, digits, _ . -")
    )
    title = t.text("title", required=True, max_len=500)
    risk = t.text("risk", default="low")
    if risk not in RISK_LEVELS:
        t.error(
            "risk",
            _("risk {value!r} is not one of: {levels}").format(
                value=risk, levels=", ".join(RISK_LEVELS)
            ),
        )
        risk = "low"
    if name is None or title is None:
        return None
    return ChangeTemplateConfig(
        name=name,
        title=title,
        description=t.text("description", default=""),
        category=t.text("category", default="", max_len=80),
        services=t.strings("services"),
        implementation_plan=t.text("implementation_plan", default=""),
        backout_plan=t.text("backout_plan", default=""),
        test_plan=t.text("test_plan", default=""),
        duration_minutes=t.integer("duration_minutes", lo=1, hi=60 * 24 * 31, default=60),
        risk=risk,
        path=t.path,
    )


def _parse_risk(t: Table) -> RiskQuestionnaire | None:
    t.check_keys(("questions", "thresholds", "rules"))
    questions: list[RiskQuestion] = []
    seen: dict[Any, int] = {}
    raw_questions = t.tables("questions", required=True)
    if raw_questions is not None and not raw_questions:
        t.error("questions", _("the questionnaire needs at least one question"))
    for i, raw in raw_questions or []:
        qt = Table(
            t.chk, (*t.path, "questions", i), raw, _label(_("risk question"), raw.get("id"), i)
        )
        qt.check_keys(("id", "text", "answers"))
        qid = qt.text(
            "id", required=True, pattern=_IDENTIFIER, hint=_("lower-case letters, digits and _")
        )
        text = qt.text("text", required=True)
        answers: list[RiskAnswer] = []
        answer_seen: dict[Any, int] = {}
        raw_answers = qt.tables("answers", required=True) or []
        if "answers" in raw and len(raw_answers) < 2:
            qt.error("answers", _("a question needs at least two answers"))
        for j, raw_answer in raw_answers:
            at = Table(t.chk, (*qt.path, "answers", j), raw_answer, qt.context)
            at.check_keys(("value", "label", "weight"))
            value = at.text(
                "value",
                required=True,
                pattern=_IDENTIFIER,
                hint=_("lower-case letters, digits and _"),
            )
            weight = at.integer("weight", lo=0, hi=1000, required=True)
            label = at.text("label", default=value)
            if value is None or weight is None:
                continue
            if _duplicate(at, answer_seen, value, "value", _("answer '{v}'").format(v=value)):
                continue
            answers.append(RiskAnswer(value=value, label=label, weight=weight))
        if (
            qid is None
            or text is None
            or _duplicate(qt, seen, qid, "id", _("question '{id}'").format(id=qid))
        ):
            continue
        if len(answers) >= 2:
            questions.append(RiskQuestion(id=qid, text=text, answers=tuple(answers)))
    thresholds: dict[str, int] = {}
    tt = t.table("thresholds", required=True)
    if tt is not None:
        tt.check_keys(RISK_LEVELS)
        for level in RISK_LEVELS:
            value = tt.integer(level, lo=0, hi=100_000, required=level != "very_high")
            if value is not None:
                thresholds[level] = value
        values = list(thresholds.values())
        if values != sorted(set(values)):
            tt.error(
                None,
                _("thresholds must increase from low to {top}").format(top=list(thresholds)[-1]),
            )
        elif questions and thresholds:
            top = list(thresholds)[-1]
            best = RiskQuestionnaire(questions=tuple(questions), thresholds=thresholds).max_score()
            if thresholds[top] > best:
                tt.error(
                    top,
                    _(
                        "threshold {level} = {value} is above the highest possible score {max}"
                    ).format(level=top, value=thresholds[top], max=best),
                )
    rules: dict[str, str] = {}
    rt = t.table("rules")
    if rt is not None:
        rt.check_keys(RISK_RULES)
        for rule in RISK_RULES:
            level = rt.text(rule)
            if level is None:
                continue
            if level not in RISK_LEVELS:
                rt.error(
                    rule,
                    _("{rule} must be a risk level ({levels}), not {value!r}").format(
                        rule=rule, levels=", ".join(RISK_LEVELS), value=level
                    ),
                )
                continue
            rules[rule] = level
    if not questions or not {"low", "medium", "high"} <= thresholds.keys():
        return None
    return RiskQuestionnaire(
        questions=tuple(questions), thresholds=thresholds, rules=rules, path=t.path
    )
