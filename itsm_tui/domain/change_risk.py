"""A change's risk: the weighted questionnaire's level, the rules' levels, the higher wins.

Pure: the questionnaire comes as the desk stores it, the facts about the change's
services are gathered by the caller. The result says which answers or rules set the level.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from itsm_tui.i18n import _

RISK_LEVELS = ("low", "medium", "high", "very_high")
# The rules the desk file may give a level to (`[risk_questionnaire.rules]`).
RISK_RULES = ("critical_service", "no_backout_plan", "outside_maintenance", "major_incident")


def level_rank(level: str) -> int:
    return RISK_LEVELS.index(level)


def higher(a: str, b: str) -> str:
    return a if level_rank(a) >= level_rank(b) else b


def level_for_score(thresholds: Mapping[str, int], score: int) -> str:
    """The highest level whose threshold the score reaches ("low" below every other)."""
    level = "low"
    for name in RISK_LEVELS:
        if name in thresholds and score >= thresholds[name]:
            level = name
    return level


@dataclass(frozen=True)
class RiskFacts:
    """What the rules look at, gathered from the store by the caller."""

    # Affected services (and those riding on them) of criticality 1.
    critical_services: tuple[str, ...] = ()
    has_backout_plan: bool = True
    # Affected services whose maintenance windows do not hold the planned window.
    outside_maintenance: tuple[str, ...] = ()
    # Affected services with an open major (or P1) incident.
    major_incident_services: tuple[str, ...] = ()


@dataclass(frozen=True)
class RiskReason:
    source: str  # "questionnaire" | "rule"
    key: str  # the question id, "score", or the rule's name
    level: str
    text: str

    def as_json(self) -> dict[str, str]:
        return {"source": self.source, "key": self.key, "level": self.level, "text": self.text}


@dataclass(frozen=True)
class RiskResult:
    level: str
    score: int
    # Highest level first; those at `level` are what set it.
    reasons: tuple[RiskReason, ...] = field(default=())

    def reasons_json(self) -> list[dict[str, str]]:
        return [r.as_json() for r in self.reasons]


def unanswered(questionnaire: Mapping[str, Any], answers: Mapping[str, str]) -> list[str]:
    """Question ids without an answer, in the questionnaire's order."""
    return [q["id"] for q in questionnaire.get("questions", ()) if q["id"] not in answers]


def answer_problems(questionnaire: Mapping[str, Any], answers: Mapping[str, str]) -> list[str]:
    """Answers to questions that do not exist, or values a question does not offer."""
    questions = {q["id"]: q for q in questionnaire.get("questions", ())}
    problems = []
    for qid, value in answers.items():
        question = questions.get(qid)
        if question is None:
            problems.append(
                _("no risk question {qid!r}; questions: {known}").format(
                    qid=qid, known=", ".join(questions)
                )
            )
            continue
        offered = [a["value"] for a in question["answers"]]
        if value not in offered:
            problems.append(
                _("{qid}: {value!r} is not an answer; answers: {offered}").format(
                    qid=qid, value=value, offered=", ".join(offered)
                )
            )
    return problems


def assess(
    questionnaire: Mapping[str, Any], answers: Mapping[str, str], facts: RiskFacts
) -> RiskResult:
    """The change's risk from its answers (unanswered questions weigh nothing) and facts.

    Raises ValueError naming the first answer the questionnaire does not offer.
    """
    problems = answer_problems(questionnaire, answers)
    if problems:
        raise ValueError(problems[0])
    weighed: list[tuple[int, str, str, str]] = []
    for question in questionnaire.get("questions", ()):
        value = answers.get(question["id"])
        for answer in question["answers"]:
            if answer["value"] == value:
                weighed.append(
                    (int(answer["weight"]), question["id"], question["text"], answer["label"])
                )
    score = sum(w for w, *_rest in weighed)
    thresholds = questionnaire.get("thresholds", {})
    from_answers = level_for_score(thresholds, score)
    heavy = sorted((w for w in weighed if w[0] > 0), key=lambda w: -w[0])
    because = "; ".join(f"{text} {label} (+{w})" for w, _qid, text, label in heavy)
    reasons = [
        RiskReason(
            "questionnaire",
            "score",
            from_answers,
            _("questionnaire score {score} (threshold {level}: {at}){because}").format(
                score=score,
                level=from_answers,
                at=thresholds.get(from_answers, 0),
                because=f": {because}" if because else "",
            ),
        )
    ]
    rules: Mapping[str, str] = questionnaire.get("rules", {}) or {}
    for rule, holds in _rules_holding(facts):
        if rule in rules and holds:
            reasons.append(RiskReason("rule", rule, rules[rule], holds))
    reasons.sort(key=lambda r: -level_rank(r.level))
    return RiskResult(level=reasons[0].level, score=score, reasons=tuple(reasons))


def _rules_holding(facts: RiskFacts) -> Sequence[tuple[str, str]]:
    """(rule, why it holds — empty when it does not) for every rule."""

    def names(services: Sequence[str]) -> str:
        return ", ".join(services)

    return (
        (
            "critical_service",
            _("touches critical service {names}").format(names=names(facts.critical_services))
            if facts.critical_services
            else "",
        ),
        ("no_backout_plan", "" if facts.has_backout_plan else _("no back-out plan")),
        (
            "outside_maintenance",
            _("window outside the maintenance window of {names}").format(
                names=names(facts.outside_maintenance)
            )
            if facts.outside_maintenance
            else "",
        ),
        (
            "major_incident",
            _("open major incident on {names}").format(names=names(facts.major_incident_services))
            if facts.major_incident_services
            else "",
        ),
    )
