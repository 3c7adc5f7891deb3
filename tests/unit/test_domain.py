"""Pure rules: state machines, the priority matrix, roles."""

import pytest

from itsm_tui.domain import roles
from itsm_tui.domain.priority import (
    DEFAULT_MATRIX,
    parse_priority,
    priority_for,
    validate_matrix,
)
from itsm_tui.domain.workflow import (
    CHANGE_STATUSES,
    CHANGE_WORKFLOWS,
    INCIDENT_WORKFLOW,
    PROBLEM_WORKFLOW,
    REQUEST_WORKFLOW,
    WORKFLOWS,
    all_statuses,
    format_number,
    number_prefix,
    open_statuses,
    workflow_for,
)

ALL_FLOWS = [*WORKFLOWS.values(), *CHANGE_WORKFLOWS.values()]


def test_incident_statuses_are_the_documented_ones() -> None:
    assert INCIDENT_WORKFLOW.statuses == (
        "new",
        "assigned",
        "in_progress",
        "pending",
        "resolved",
        "closed",
        "cancelled",
    )


def test_request_statuses_are_the_documented_ones() -> None:
    assert REQUEST_WORKFLOW.statuses == (
        "submitted",
        "awaiting_approval",
        "approved",
        "rejected",
        "fulfilling",
        "fulfilled",
        "closed",
        "cancelled",
    )


def test_problem_statuses_are_the_documented_ones() -> None:
    assert PROBLEM_WORKFLOW.statuses == (
        "new",
        "investigating",
        "known_error",
        "resolved",
        "closed",
    )


def test_change_types_share_one_board_order_and_only_the_cab_types_reach_authorization() -> None:
    for kind, flow in CHANGE_WORKFLOWS.items():
        assert list(flow.statuses) == [s for s in CHANGE_STATUSES if s in flow.moves], kind
        assert flow.initial == "draft" and flow.allowed("implementing") == ("review",)
    assert "authorization" not in CHANGE_WORKFLOWS["standard"].moves
    assert CHANGE_WORKFLOWS["emergency"].can_move("authorization", "implementing")
    assert not CHANGE_WORKFLOWS["normal"].can_move("authorization", "implementing")


@pytest.mark.parametrize("flow", ALL_FLOWS, ids=lambda f: f.record_type)
def test_every_move_targets_a_status_of_the_same_machine(flow) -> None:
    for status, targets in flow.moves.items():
        assert status not in targets, f"{status} moves to itself"
        for target in targets:
            assert target in flow.moves


@pytest.mark.parametrize("flow", ALL_FLOWS, ids=lambda f: f.record_type)
def test_every_status_is_reachable_from_the_initial_one(flow) -> None:
    seen = {flow.initial}
    frontier = [flow.initial]
    while frontier:
        for target in flow.allowed(frontier.pop()):
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    assert seen == set(flow.statuses)


@pytest.mark.parametrize("flow", list(WORKFLOWS.values()), ids=lambda f: f.record_type)
def test_closed_is_final_and_reopen_leads_back_into_work(flow) -> None:
    assert flow.allowed("closed") == ()
    assert "closed" not in flow.reopenable
    assert flow.reopen_to is not None and flow.is_open(flow.reopen_to)
    assert flow.resolved in flow.reopenable


def test_resolved_incident_cannot_silently_go_back_to_work() -> None:
    assert not INCIDENT_WORKFLOW.can_move("resolved", "in_progress")
    assert INCIDENT_WORKFLOW.can_move("resolved", "closed")


def test_open_statuses_exclude_finished_work() -> None:
    assert "pending" in open_statuses("incident")
    for done in ("resolved", "closed", "cancelled"):
        assert done not in open_statuses("incident")
    assert "fulfilled" not in open_statuses()
    assert set(open_statuses()) < set(all_statuses())


def test_unknown_type_is_refused_with_the_types_named() -> None:
    with pytest.raises(ValueError, match="incident, request, problem"):
        workflow_for("bug")


def test_numbers_have_seven_digits_and_a_prefix() -> None:
    assert format_number("INC", 42) == "INC0000042"
    assert number_prefix("REQ0001234") == "REQ"


@pytest.mark.parametrize(
    ("impact", "urgency", "expected"),
    [(1, 1, 1), (1, 2, 2), (2, 1, 2), (2, 2, 3), (1, 3, 3), (3, 1, 3), (2, 3, 4), (3, 3, 4)],
)
def test_default_matrix_gives_itil_priorities(impact: int, urgency: int, expected: int) -> None:
    assert priority_for(impact, urgency) == expected


def test_a_desk_matrix_overrides_the_default() -> None:
    strict = [[1, 1, 2], [1, 2, 3], [2, 3, 4]]
    assert priority_for(2, 1, strict) == 1
    assert priority_for(2, 1, DEFAULT_MATRIX) == 2


def test_matrix_validation_names_what_is_wrong() -> None:
    assert validate_matrix([list(r) for r in DEFAULT_MATRIX]) is None
    assert "3 rows" in validate_matrix([[1, 2, 3]])
    assert "row 2" in validate_matrix([[1, 2, 3], [2, 3], [3, 4, 4]])
    assert "5" in validate_matrix([[1, 2, 3], [2, 3, 5], [3, 4, 4]])
    assert validate_matrix([[1, 2, 3], [2, True, 4], [3, 4, 4]]) is not None


@pytest.mark.parametrize(("text", "value"), [("P1", 1), ("p4", 4), ("2", 2), (3, 3)])
def test_priorities_parse_from_labels_and_numbers(text, value) -> None:
    assert parse_priority(text) == value


@pytest.mark.parametrize("text", ["P0", "P5", "high", ""])
def test_bad_priorities_are_refused(text) -> None:
    with pytest.raises(ValueError):
        parse_priority(text)


def test_only_supervisors_and_admins_override_priority() -> None:
    assert not roles.can(frozenset({"agent"}), "ticket.override_priority")
    assert roles.can(frozenset({"agent", "supervisor"}), "ticket.override_priority")
    assert roles.can(frozenset({"admin"}), "ticket.override_priority")


def test_only_cab_members_approve_changes_even_over_admins() -> None:
    assert roles.can(frozenset({"cab"}), "change.approve")
    assert not roles.can(frozenset({"admin"}), "change.approve")
    assert not roles.can(frozenset({"change_manager"}), "change.approve")
    assert roles.roles_with("change.approve") == ("cab",)
