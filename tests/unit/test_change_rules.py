"""The change process's pure rules and its desk-file sections: risk, quorum, review, success."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from itsm_tui.config import DeskFileError, dump_toml, load_default_desk, load_desk_text
from itsm_tui.config.store import _risk_value
from itsm_tui.domain.change_process import (
    approvals_needed,
    parse_approvals,
    review_required,
    succeeded_first_time,
    takes_votes,
)
from itsm_tui.domain.change_risk import RiskFacts, assess
from tests.unit.test_desk_file import BASE, at

END = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def questionnaire() -> dict:  # type: ignore[type-arg]
    default = load_default_desk().risk_questionnaire
    assert default is not None
    return _risk_value(default)


LOW = {
    "users_affected": "none",
    "outage": "no",
    "backout": "tested",
    "experience": "routine",
    "critical_service": "no",
}


# ---------------------------------------------------------------------------
# Risk


def test_the_questionnaire_alone_gives_its_level_and_says_which_answers() -> None:
    answers = {
        **LOW,
        "users_affected": "company",
        "outage": "business_hours",
        "backout": "untested",
    }
    result = assess(questionnaire(), answers, RiskFacts())
    assert (result.level, result.score) == ("high", 13)
    [reason] = result.reasons
    assert reason.source == "questionnaire"
    # Heaviest answer first.
    assert reason.text.index("The whole company (+6)") < reason.text.index("(+5)")


def test_a_rule_above_the_questionnaire_sets_the_level() -> None:
    result = assess(questionnaire(), LOW, RiskFacts(critical_services=("ERP",)))
    assert result.level == "high"
    assert [(r.source, r.key, r.level) for r in result.reasons] == [
        ("rule", "critical_service", "high"),
        ("questionnaire", "score", "low"),
    ]
    assert result.reasons[0].text == "touches critical service ERP"


def test_every_rule_that_holds_is_a_reason_highest_first() -> None:
    facts = RiskFacts(
        critical_services=("ERP",),
        has_backout_plan=False,
        outside_maintenance=("CRM",),
        major_incident_services=("ERP",),
    )
    result = assess(questionnaire(), LOW, facts)
    assert result.level == "very_high"
    assert [r.key for r in result.reasons] == [
        "major_incident",
        "critical_service",
        "no_backout_plan",
        "outside_maintenance",
        "score",
    ]


def test_a_rule_the_desk_leaves_out_is_off() -> None:
    q = {**questionnaire(), "rules": {}}
    assert assess(q, LOW, RiskFacts(has_backout_plan=False)).level == "low"


def test_partial_answers_score_what_is_answered_and_unknown_answers_are_refused() -> None:
    # The form computes the level live while answers come in.
    assert assess(questionnaire(), {"users_affected": "company"}, RiskFacts()).score == 6
    with pytest.raises(ValueError, match="'maybe' is not an answer"):
        assess(questionnaire(), {"outage": "maybe"}, RiskFacts())
    with pytest.raises(ValueError, match="no risk question 'colour'"):
        assess(questionnaire(), {"colour": "red"}, RiskFacts())


# ---------------------------------------------------------------------------
# Quorum, votes, review, success


@pytest.mark.parametrize(
    ("rule", "cab", "needed"),
    [
        (1, 9, 1),
        (3, 2, 3),
        ("50%", 4, 2),
        ("50%", 5, 3),
        ("75%", 4, 3),
        ("100%", 7, 7),
        ("1%", 0, 1),
    ],
)
def test_approvals_needed_as_a_count_or_a_share_of_the_cab(
    rule: object, cab: int, needed: int
) -> None:
    assert approvals_needed(rule, cab) == needed  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [0, 51, "0%", "101%", "half", True, "50"])
def test_an_approvals_rule_is_a_count_or_a_percentage(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_approvals(bad)  # type: ignore[arg-type]


def test_where_the_cab_votes() -> None:
    assert takes_votes("normal", "authorization", False)
    assert not takes_votes("normal", "scheduled", False)
    assert not takes_votes("standard", "draft", False)
    # The emergency CAB keeps voting after the change started, until it is authorized.
    assert takes_votes("emergency", "implementing", False)
    assert not takes_votes("emergency", "implementing", True)


def test_review_is_required_for_emergency_failed_and_backed_out_changes() -> None:
    assert review_required("emergency", "successful", type_requires=False)
    assert review_required("standard", "failed", type_requires=False)
    assert review_required("normal", "backed_out", type_requires=False)
    assert not review_required("normal", "successful", type_requires=False)
    assert review_required("normal", "successful", type_requires=True)


def test_first_time_success() -> None:
    assert succeeded_first_time("successful", END, [], 14)
    assert not succeeded_first_time("failed", END, [], 14)
    assert not succeeded_first_time("backed_out", END, [], 14)
    assert not succeeded_first_time("successful", END, [END + timedelta(days=14)], 14)
    assert succeeded_first_time("successful", END, [END + timedelta(days=14, seconds=1)], 14)
    # Not ended yet: any caused incident counts.
    assert not succeeded_first_time("successful", None, [END + timedelta(days=400)], 14)


# ---------------------------------------------------------------------------
# The desk file


CHANGES = """
[change_types.standard]
pre_approved = true
review_days = 7
[change_types.normal]
cab_required = true
approvals = { low = 1, medium = "half", high = "50%", very_high = 0 }
[change_types.emergency]
cab_required = true
cab = ["lwang", "nobody"]

[[change_templates]]
name = "cert-renewal"
title = "Renew the ERP certificate"
services = ["ERP", "Payroll"]
risk = "tiny"
duration_minutes = 30
"""


def test_change_sections_are_validated_line_by_line() -> None:
    text = BASE + CHANGES
    with pytest.raises(DeskFileError) as caught:
        load_desk_text(text, "desk.toml")
    approvals = at(text, "approvals =")
    services = at(text, "Payroll")
    risk = at(text, "tiny")
    assert caught.value.errors == [
        f"desk.toml:{approvals}: change type 'normal': medium must be a number of approvals "
        "from 1 to 50 or a share of the CAB such as \"50%\", not 'half'",
        f"desk.toml:{approvals}: change type 'normal': very_high must be a number of approvals "
        'from 1 to 50 or a share of the CAB such as "50%", not 0',
        f"desk.toml:{at(text, 'cab = [')}: change type 'emergency': cab 'nobody' is not "
        "defined (no such agent)",
        f"desk.toml:{services}: change template "
        "'cert-renewal': services 'Payroll' is not defined (no such service)",
        f"desk.toml:{risk}: change template 'cert-renewal': "
        "risk 'tiny' is not one of: low, medium, high, very_high",
    ]


def test_risk_rules_take_a_level_each() -> None:
    text = BASE + (
        "\n[risk_questionnaire.thresholds]\nlow = 0\nmedium = 1\nhigh = 2\n"
        '\n[risk_questionnaire.rules]\ncritical_service = "extreme"\nfull_moon = "high"\n'
        '\n[[risk_questionnaire.questions]]\nid = "q"\ntext = "Q?"\n'
        'answers = [{ value = "a", weight = 0 }, { value = "b", weight = 2 }]\n'
    )
    with pytest.raises(DeskFileError) as caught:
        load_desk_text(text, "desk.toml")
    assert caught.value.errors == [
        f"desk.toml:{at(text, 'critical_service =')}: risk_questionnaire: critical_service must "
        "be a risk level (low, medium, high, very_high), not 'extreme'",
        f"desk.toml:{at(text, 'full_moon')}: risk_questionnaire: unknown key 'full_moon'",
    ]


def test_the_change_sections_round_trip_through_the_dump() -> None:
    text = BASE + CHANGES.replace('"half"', '"60%"').replace("very_high = 0", "very_high = 4")
    text = text.replace(', "nobody"', "").replace(', "Payroll"', "").replace('"tiny"', '"medium"')
    config = load_desk_text(text, "desk.toml")
    normal = next(t for t in config.change_types or () if t.name == "normal")
    assert dict(normal.approvals) == {"low": 1, "medium": "60%", "high": "50%", "very_high": 4}
    again = load_desk_text(dump_toml(config), "dump.toml")
    assert again == config
    assert again.change_templates == config.change_templates
