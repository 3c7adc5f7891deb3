"""The desk file's validation: every error names file, line and key; nothing store-related."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from itsm_tui.config import (
    DeskConfig,
    DeskFileError,
    dump_toml,
    load_default_desk,
    load_desk_file,
    load_desk_text,
    risk_level,
)
from itsm_tui.desk.errors import DeskError
from itsm_tui.domain.calendar import BusinessCalendar, business_minutes_between
from itsm_tui.domain.priority import DEFAULT_MATRIX

BASE = """\
[desk]
name = "Test desk"
timezone = "Asia/Shanghai"
default_calendar = "business-hours"

[[calendars]]
name = "business-hours"
timezone = "Asia/Shanghai"
holidays = [2026-10-01]
[calendars.hours]
mon = ["09:00-12:00", "13:30-18:00"]
tue = ["09:00-12:00", "13:30-18:00"]

[[calendars]]
name = "24x7"
always_open = true

[[teams]]
name = "Service Desk"
tier = 1
escalation_team = "Infrastructure"
supervisor = "lwang"

[[teams]]
name = "Infrastructure"
tier = 2

[[agents]]
username = "lwang"
name = "Wang Lei"
team = "Service Desk"
roles = ["agent", "supervisor"]
hourly_cost = 120.50

[[services]]
name = "ERP"
criticality = 1
availability_target = 99.9
owner_team = "Infrastructure"

[[catalogue_items]]
code = "laptop"
name = "New laptop"
team = "Service Desk"
service = "ERP"

[[sla_policies]]
name = "P1 incident"
calendar = "24x7"
response_minutes = 15
resolution_minutes = 120
[sla_policies.match]
types = ["incident"]
priorities = ["P1"]
"""


def errors_of(text: str, filename: str = "desk.toml") -> list[str]:
    with pytest.raises(DeskFileError) as caught:
        load_desk_text(text, filename)
    return caught.value.errors


def at(text: str, needle: str, occurrence: int = 1) -> int:
    """The 1-based line of the n-th line of `text` that contains `needle`."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[occurrence - 1]


def only_error(text: str) -> str:
    errors = errors_of(text)
    assert len(errors) == 1, errors
    return errors[0]


# ---------------------------------------------------------------------------
# The default desk


def test_default_desk_validates_and_has_every_section_but_agents() -> None:
    desk = load_default_desk()
    assert desk.agents is None
    for section in DeskConfig().__dataclass_fields__:
        if section not in ("agents", "filename", "locator"):
            assert getattr(desk, section) is not None, section


def test_default_desk_carries_the_documents_kpi_targets() -> None:
    k = load_default_desk().kpi_targets
    assert k is not None
    assert k.availability_percent == Decimal("99.9")
    assert k.incident_response_minutes == 15
    assert k.incident_resolution_minutes == 120
    assert k.request_handling_minutes == 30
    assert k.change_success_percent == 95
    assert k.csat_min == Decimal("4.0")
    assert k.complaints_reduction_percent == 20
    assert k.tickets_per_agent_per_day == 10
    assert k.incident_cost_budget_percent == 90


def test_default_desk_p1_incident_is_15_minutes_and_2_hours_around_the_clock() -> None:
    desk = load_default_desk()
    p1 = next(p for p in desk.sla_policies or () if p.name == "P1 incident")
    assert (p1.response_minutes, p1.resolution_minutes) == (15, 120)
    assert p1.match.types == ("incident",) and p1.match.priorities == (1,)
    calendar = next(c for c in desk.calendars or () if c.name == p1.calendar)
    assert calendar.always_open
    ranks = [p.rank for p in desk.sla_policies or () if "incident" in p.match.types]
    assert p1.rank == min(ranks)


def test_default_desk_business_hours_have_a_lunch_break_in_shanghai() -> None:
    desk = load_default_desk()
    cal = next(c for c in desk.calendars or () if c.name == "business-hours")
    assert cal.timezone == "Asia/Shanghai"
    for day in ("mon", "tue", "wed", "thu", "fri"):
        assert cal.hours[day] == (("09:00", "12:00"), ("13:30", "18:00"))
    assert "sat" not in cal.hours and "sun" not in cal.hours
    assert date(2026, 10, 1) in cal.holidays


def test_default_calendars_build_as_domain_calendars() -> None:
    # The desk file and the SLA arithmetic must agree on the calendar format.
    for cal in load_default_desk().calendars or ():
        built = BusinessCalendar.from_config(
            name=cal.name,
            timezone=cal.timezone,
            hours={d: [list(iv) for iv in ivs] for d, ivs in cal.hours.items()},
            holidays=[d.isoformat() for d in cal.holidays],
            always_open=cal.always_open,
        )
        if cal.name == "business-hours":
            monday = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
            tuesday = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
            assert business_minutes_between(built, monday, tuesday) == 450


def test_default_desk_escalates_at_breach_then_at_150_percent_and_pages_for_p1() -> None:
    rules = load_default_desk().escalation_rules or ()
    level1 = [r for r in rules if r.level == 1]
    level2 = [r for r in rules if r.level == 2]
    assert {r.at_percent for r in level1} == {100}
    assert {r.at_percent for r in level2} == {150}
    for rule in level1:
        assert {"notify_supervisor", "reassign_escalation_team"} <= set(rule.actions)
    for rule in level2:
        assert "notify_desk_manager" in rule.actions
    p1_rules = [r for r in rules if r.match.priorities == (1,)]
    assert p1_rules and all("page_on_call" in r.actions for r in p1_rules)
    assert any("raise_priority" in r.actions for r in level2)


def test_default_desk_teams_form_tiers_and_services_have_owners() -> None:
    desk = load_default_desk()
    tiers = {t.name: t.tier for t in desk.teams or ()}
    assert tiers["Service Desk"] == 1
    assert tiers["Infrastructure Engineering"] == 3
    assert 8 <= len(desk.services or ()) <= 12
    assert all(s.owner_team in tiers for s in desk.services or ())
    assert desk.priority_matrix == DEFAULT_MATRIX


def test_default_desk_has_an_incident_budget_and_a_freeze_window() -> None:
    desk = load_default_desk()
    assert any(b.category == "incident" and b.amount > 0 for b in desk.budgets or ())
    assert desk.freeze_windows
    assert all(f.starts_at.tzinfo is not None for f in desk.freeze_windows)


def test_default_desk_file_never_hard_codes_allowed_downtime() -> None:
    from itsm_tui.config import default_desk_text

    assert "53 minutes" not in default_desk_text()


def test_risk_level_is_the_highest_threshold_reached() -> None:
    thresholds = (load_default_desk().risk_questionnaire).thresholds  # type: ignore[union-attr]
    assert risk_level(thresholds, 0) == "low"
    assert risk_level(thresholds, thresholds["medium"]) == "medium"
    assert risk_level(thresholds, thresholds["high"] + 1) == "high"
    assert risk_level(thresholds, 10_000) == "very_high"


# ---------------------------------------------------------------------------
# Loading


def test_base_file_loads_with_typed_values() -> None:
    desk = load_desk_text(BASE, "desk.toml")
    assert desk.agents is not None and desk.agents[0].hourly_cost == Decimal("120.50")
    assert desk.agents[0].roles == ("agent", "supervisor")
    assert desk.services is not None and desk.services[0].availability_target == Decimal("99.9")
    assert desk.escalation_rules is None  # absent: left alone when applied


def test_load_desk_file_names_the_file(tmp_path) -> None:
    path = tmp_path / "mydesk.toml"
    path.write_text('[desk]\ntimezone = "Nowhere/Land"\n', encoding="utf-8")
    with pytest.raises(DeskFileError) as caught:
        load_desk_file(path)
    assert caught.value.errors == [
        "mydesk.toml:2: desk: timezone 'Nowhere/Land' is not an IANA time zone "
        "(e.g. Asia/Shanghai, UTC)"
    ]


def test_missing_file_is_a_desk_error(tmp_path) -> None:
    with pytest.raises(DeskError, match="cannot read the desk file"):
        load_desk_file(tmp_path / "absent.toml")


def test_desk_file_error_is_a_desk_error_with_exit_code() -> None:
    with pytest.raises(DeskError) as caught:
        load_desk_text("[desk]\nname = 1\n", "desk.toml")
    assert caught.value.exit_code == 1


# ---------------------------------------------------------------------------
# Syntax, unknown keys, types


def test_toml_syntax_error_names_file_and_line() -> None:
    text = '[desk]\nname = "x"\ntimezone = \n'
    error = only_error(text)
    assert error.startswith("desk.toml:3: not valid TOML: ")


def test_unknown_key_is_named_with_a_suggestion() -> None:
    text = BASE.replace("response_minutes = 15", "respnse_minutes = 15")
    line = at(text, "respnse_minutes")
    assert only_error(text) == (
        f"desk.toml:{line}: sla 'P1 incident': unknown key 'respnse_minutes' "
        "(did you mean 'response_minutes'?)"
    )


def test_unknown_section_is_named() -> None:
    text = BASE + "\n[kpi_target]\ncsat_min = 4.0\n"
    assert only_error(text) == (
        f"desk.toml:{at(text, '[kpi_target]')}: unknown key 'kpi_target' "
        "(did you mean 'kpi_targets'?)"
    )


def test_wrong_type_names_key_and_type() -> None:
    text = BASE.replace("tier = 2", 'tier = "two"')
    line = at(text, '"two"')
    assert only_error(text) == (
        f"desk.toml:{line}: team 'Infrastructure': tier must be a whole number, not text"
    )


def test_fractional_minutes_are_refused() -> None:
    text = BASE.replace("response_minutes = 15", "response_minutes = 15.5")
    assert only_error(text) == (
        f"desk.toml:{at(text, 'response_minutes')}: sla 'P1 incident': "
        "response_minutes must be a whole number, not 15.5"
    )


def test_out_of_range_values_name_the_range() -> None:
    text = BASE.replace("criticality = 1", "criticality = 5").replace(
        "availability_target = 99.9", "availability_target = 100.5"
    )
    assert errors_of(text) == [
        f"desk.toml:{at(text, 'criticality')}: service 'ERP': "
        "criticality must be between 1 and 4, not 5",
        f"desk.toml:{at(text, 'availability_target')}: service 'ERP': "
        "availability_target must be above 0 and at most 100, not 100.5",
    ]


def test_missing_required_key_points_at_the_table() -> None:
    text = BASE.replace('name = "Infrastructure"\ntier = 2', "tier = 2")
    errors = errors_of(text)
    header = at(text, "[[teams]]", 2)
    assert f"desk.toml:{header}: team #2: 'name' is missing" in errors


def test_array_section_written_as_a_table_is_explained() -> None:
    text = '[teams]\nname = "A"\n'
    assert only_error(text) == (
        "desk.toml:1: teams must be an array of tables (write [[teams]]), not a table"
    )


def test_every_error_in_the_file_is_reported_at_once_in_line_order() -> None:
    text = (
        BASE.replace('timezone = "Asia/Shanghai"\ndefault', 'timezone = "Mars/Base"\ndefault')
        .replace("criticality = 1", "criticality = 0")
        .replace('calendar = "24x7"', 'calendar = "bizhours"')
    )
    errors = errors_of(text)
    assert len(errors) == 3
    lines = [int(e.split(":")[1]) for e in errors]
    assert lines == sorted(lines)


# ---------------------------------------------------------------------------
# References between sections


def test_undefined_calendar_names_file_line_and_key() -> None:
    text = BASE.replace('calendar = "24x7"', 'calendar = "bizhours"')
    assert only_error(text) == (
        f"desk.toml:{at(text, 'bizhours')}: sla 'P1 incident': "
        "calendar 'bizhours' is not defined (no such calendar)"
    )


def test_undefined_default_calendar_names_the_desk_key() -> None:
    text = BASE.replace('default_calendar = "business-hours"', 'default_calendar = "nine-to-five"')
    assert only_error(text) == (
        f"desk.toml:{at(text, 'default_calendar')}: desk: "
        "default_calendar 'nine-to-five' is not defined (no such calendar)"
    )


def test_undefined_team_references_are_each_named() -> None:
    text = (
        BASE.replace('escalation_team = "Infrastructure"', 'escalation_team = "Infra"')
        .replace('team = "Service Desk"\nroles', 'team = "Helpdesk"\nroles')
        .replace('owner_team = "Infrastructure"', 'owner_team = "Ops"')
        .replace(
            'code = "laptop"\nname = "New laptop"\nteam = "Service Desk"',
            'code = "laptop"\nname = "New laptop"\nteam = "Field"',
        )
    )
    infra = at(text, '"Infra"')
    assert errors_of(text) == [
        f"desk.toml:{infra}: team 'Service Desk': "
        "escalation_team 'Infra' is not defined (no such team)",
        f"desk.toml:{at(text, 'Helpdesk')}: agent 'lwang': "
        "team 'Helpdesk' is not defined (no such team)",
        f"desk.toml:{at(text, 'Ops')}: service 'ERP': "
        "owner_team 'Ops' is not defined (no such team)",
        f"desk.toml:{at(text, 'Field')}: catalogue item 'laptop': "
        "team 'Field' is not defined (no such team)",
    ]


def test_undefined_supervisor_names_the_username() -> None:
    text = BASE.replace('supervisor = "lwang"', 'supervisor = "lwong"')
    assert only_error(text) == (
        f"desk.toml:{at(text, 'lwong')}: team 'Service Desk': "
        "supervisor 'lwong' is not defined (no such agent)"
    )


def test_undefined_service_and_catalogue_item_in_sla_match() -> None:
    text = BASE.replace(
        'priorities = ["P1"]',
        'priorities = ["P1"]\nservices = ["CRM"]\ncatalogue_items = ["phone"]',
    )
    assert errors_of(text) == [
        f"desk.toml:{at(text, 'CRM')}: sla 'P1 incident': "
        "services 'CRM' is not defined (no such service)",
        f"desk.toml:{at(text, 'phone')}: sla 'P1 incident': "
        "catalogue_items 'phone' is not defined (no such catalogue item)",
    ]


def test_undefined_service_of_catalogue_item_and_freeze_window() -> None:
    text = BASE.replace('service = "ERP"', 'service = "Payroll"') + (
        '\n[[freeze_windows]]\nname = "Close"\nstarts_at = 2026-12-24T00:00:00+08:00\n'
        'ends_at = 2026-12-31T00:00:00+08:00\nservices = ["Billing"]\n'
    )
    errors = errors_of(text)
    assert errors == [
        f"desk.toml:{at(text, 'Payroll')}: catalogue item 'laptop': "
        "service 'Payroll' is not defined (no such service)",
        f"desk.toml:{at(text, 'Billing')}: freeze window 'Close': "
        "services 'Billing' is not defined (no such service)",
    ]


def test_references_to_sections_absent_from_the_file_are_checked_on_apply_not_load() -> None:
    desk = load_desk_text(
        '[[sla_policies]]\nname = "P1"\ncalendar = "lives-in-the-store"\nresolution_minutes = 60\n',
        "desk.toml",
    )
    assert desk.calendars is None and desk.sla_policies is not None


def test_escalation_team_must_be_a_higher_tier() -> None:
    text = BASE.replace("tier = 2", "tier = 1")
    assert only_error(text) == (
        f"desk.toml:{at(text, 'escalation_team')}: team 'Service Desk': "
        "escalation_team 'Infrastructure' is tier 1; it must be a higher tier than 1"
    )


def test_team_cannot_escalate_to_itself() -> None:
    text = BASE.replace('escalation_team = "Infrastructure"', 'escalation_team = "Service Desk"')
    assert only_error(text) == (
        f"desk.toml:{at(text, 'escalation_team')}: team 'Service Desk': "
        "a team cannot escalate to itself"
    )


# ---------------------------------------------------------------------------
# Duplicates


def test_duplicate_team_name_names_both_lines() -> None:
    text = BASE + '\n[[teams]]\nname = "Infrastructure"\ntier = 3\n'
    first = at(text, "[[teams]]", 2)
    second = at(text, 'name = "Infrastructure"', 2)
    assert only_error(text) == (
        f"desk.toml:{second}: team 'Infrastructure': team 'Infrastructure' is defined twice "
        f"(first on line {first})"
    )


def test_duplicate_agent_username() -> None:
    text = BASE + '\n[[agents]]\nusername = "lwang"\n'
    assert "agent 'lwang' is defined twice" in only_error(text)


def test_same_escalation_rule_name_at_two_levels_is_fine_but_not_twice_at_one() -> None:
    rule = (
        '\n[[escalation_rules]]\nname = "Breach"\nlevel = {level}\n'
        'actions = ["notify_supervisor"]\n'
    )
    load_desk_text(BASE + rule.format(level=1) + rule.format(level=2), "desk.toml")
    text = BASE + rule.format(level=1) + rule.format(level=1)
    assert "escalation rule 'Breach (level 1)' is defined twice" in only_error(text)


# ---------------------------------------------------------------------------
# Calendars


def test_overlapping_intervals_are_refused() -> None:
    text = BASE.replace(
        'tue = ["09:00-12:00", "13:30-18:00"]', 'tue = ["09:00-12:00", "11:30-18:00"]'
    )
    assert only_error(text) == (
        f"desk.toml:{at(text, 'tue =')}: calendar 'business-hours': "
        "tue: intervals 09:00-12:00 and 11:30-18:00 overlap"
    )


def test_interval_must_start_before_it_ends() -> None:
    text = BASE.replace('tue = ["09:00-12:00", "13:30-18:00"]', 'tue = ["18:00-09:00"]')
    assert only_error(text) == (
        f"desk.toml:{at(text, 'tue =')}: calendar 'business-hours': "
        "tue: interval 18:00-09:00 must start before it ends"
    )


def test_time_must_be_hh_mm() -> None:
    text = BASE.replace('tue = ["09:00-12:00", "13:30-18:00"]', 'tue = ["9:00-12:00"]')
    assert only_error(text) == (
        f"desk.toml:{at(text, 'tue =')}: calendar 'business-hours': "
        "tue: '9:00' is not a time HH:MM (00:00–23:59, or 24:00 as an end)"
    )


def test_interval_element_on_its_own_line_is_located() -> None:
    text = BASE.replace(
        'tue = ["09:00-12:00", "13:30-18:00"]', 'tue = [\n  "09:00-12:00",\n  "13:30-25:00",\n]'
    )
    assert only_error(text).startswith(f"desk.toml:{at(text, '13:30-25:00')}: ")


def test_intervals_as_pairs_and_end_of_day_are_accepted_and_sorted() -> None:
    text = BASE.replace(
        'tue = ["09:00-12:00", "13:30-18:00"]', 'tue = [["13:30", "24:00"], ["00:00", "12:00"]]'
    )
    cal = load_desk_text(text, "desk.toml").calendars[0]  # type: ignore[index]
    assert cal.hours["tue"] == (("00:00", "12:00"), ("13:30", "24:00"))


def test_unknown_weekday_is_named() -> None:
    text = BASE.replace('tue = ["09:00', 'tues = ["09:00')
    assert only_error(text) == (
        f"desk.toml:{at(text, 'tues')}: calendar 'business-hours': unknown key 'tues' "
        "(did you mean 'tue'?)"
    )


def test_invalid_time_zone_is_named() -> None:
    text = BASE.replace(
        'timezone = "Asia/Shanghai"\nholidays', 'timezone = "Asia/Shangai"\nholidays'
    )
    assert only_error(text) == (
        f"desk.toml:{at(text, 'Shangai')}: calendar 'business-hours': "
        "timezone 'Asia/Shangai' is not an IANA time zone (e.g. Asia/Shanghai, UTC)"
    )


def test_always_open_calendar_takes_no_hours() -> None:
    text = BASE.replace(
        "always_open = true", 'always_open = true\n[calendars.hours]\nmon = ["09:00-18:00"]'
    )
    assert "an always_open calendar has no working hours" in only_error(text)


def test_calendar_without_hours_says_how_to_fix_it() -> None:
    text = '[[calendars]]\nname = "x"\ntimezone = "UTC"\n'
    assert only_error(text) == (
        "desk.toml:1: calendar 'x': no working hours: "
        "add a [calendars.hours] table or always_open = true"
    )


def test_bad_and_duplicate_holidays() -> None:
    text = BASE.replace(
        "holidays = [2026-10-01]", 'holidays = [2026-10-01, "2026-13-01", 2026-10-01]'
    )
    errors = errors_of(text)
    line = at(text, "holidays")
    assert errors == [
        f"desk.toml:{line}: calendar 'business-hours': "
        "holidays: '2026-13-01' is not a date YYYY-MM-DD",
        f"desk.toml:{line}: calendar 'business-hours': holidays: 2026-10-01 is listed twice",
    ]


# ---------------------------------------------------------------------------
# SLA policies and escalation rules


def test_sla_needs_a_target() -> None:
    text = BASE.replace("response_minutes = 15\nresolution_minutes = 120\n", "")
    assert only_error(text) == (
        f"desk.toml:{at(text, '[[sla_policies]]')}: sla 'P1 incident': "
        "set response_minutes, resolution_minutes or both"
    )


def test_warning_thresholds_must_increase_below_100() -> None:
    text = BASE.replace(
        "resolution_minutes = 120", "resolution_minutes = 120\nwarn_at_percent = [75, 50]"
    )
    assert only_error(text) == (
        f"desk.toml:{at(text, 'warn_at_percent')}: sla 'P1 incident': warn_at_percent must be "
        "increasing whole percents between 1 and 99, e.g. [50, 75]"
    )


def test_sla_defaults_are_50_75_and_pending() -> None:
    policy = load_desk_text(BASE, "desk.toml").sla_policies[0]  # type: ignore[index]
    assert policy.warn_at_percent == (50, 75)
    assert policy.pause_statuses == ("pending",)


def test_pause_status_must_be_an_open_status() -> None:
    text = BASE.replace(
        "resolution_minutes = 120", 'resolution_minutes = 120\npause_statuses = ["closed"]'
    )
    error = only_error(text)
    assert error.startswith(f"desk.toml:{at(text, 'pause_statuses')}: sla 'P1 incident': ")
    assert "pause_statuses: 'closed' is not one of: " in error


def test_unknown_ticket_type_in_match() -> None:
    text = BASE.replace('types = ["incident"]', 'types = ["incidnet"]')
    assert "types: 'incidnet' is not one of: incident, request, problem" in only_error(text)


def test_unknown_escalation_action_is_named() -> None:
    text = BASE + (
        '\n[[escalation_rules]]\nname = "Breach"\nlevel = 1\nat_percent = 100\n'
        'actions = ["notify_supervisor", "call_the_ceo"]\n'
    )
    error = only_error(text)
    assert error.startswith(
        f"desk.toml:{at(text, 'call_the_ceo')}: escalation rule 'Breach': "
        "actions: 'call_the_ceo' is not one of: notify_assignee,"
    )


def test_escalation_rule_needs_actions_and_level() -> None:
    text = BASE + '\n[[escalation_rules]]\nname = "Breach"\n'
    header = at(text, "[[escalation_rules]]")
    assert errors_of(text) == [
        f"desk.toml:{header}: escalation rule 'Breach': 'level' is missing",
        f"desk.toml:{header}: escalation rule 'Breach': 'actions' is missing",
    ]


# ---------------------------------------------------------------------------
# Agents, services, catalogue


def test_unknown_role_is_named() -> None:
    text = BASE.replace('roles = ["agent", "supervisor"]', 'roles = ["agent", "superviser"]')
    assert only_error(text) == (
        f"desk.toml:{at(text, 'superviser')}: agent 'lwang': roles: 'superviser' is not one of: "
        "agent, supervisor, change_manager, cab, admin"
    )


def test_negative_hourly_cost_is_refused() -> None:
    text = BASE.replace("hourly_cost = 120.50", "hourly_cost = -1")
    assert "hourly_cost must be at least 0" in only_error(text)


def test_hourly_cost_may_be_text_for_exact_money() -> None:
    text = BASE.replace("hourly_cost = 120.50", 'hourly_cost = "99.99"')
    agent = load_desk_text(text, "desk.toml").agents[0]  # type: ignore[index]
    assert agent.hourly_cost == Decimal("99.99")


def test_choice_form_field_needs_choices() -> None:
    text = BASE.replace(
        'service = "ERP"\n',
        'service = "ERP"\n[[catalogue_items.form]]\nname = "model"\nkind = "choice"\n',
    )
    assert only_error(text) == (
        f"desk.toml:{at(text, '[[catalogue_items.form]]')}: catalogue item 'laptop': "
        'a choice field needs choices = ["…", "…"]'
    )


def test_unknown_form_field_kind() -> None:
    text = BASE.replace(
        'service = "ERP"\n',
        'service = "ERP"\n[[catalogue_items.form]]\nname = "x"\nkind = "colour"\n',
    )
    assert (
        f"desk.toml:{at(text, 'colour')}: catalogue item 'laptop': kind 'colour' is not one of"
        in only_error(text)
    )


# ---------------------------------------------------------------------------
# Matrix, KPI targets, change types, risk, freeze windows, budgets


def test_priority_matrix_must_be_three_by_three_priorities() -> None:
    text = (
        BASE
        + '\n[priority_matrix]\nimpact_1 = ["P1", "P2", "P3"]\nimpact_2 = ["P2", "P3"]\n'
        + 'impact_3 = ["P3", "P4", "P5"]\n'
    )
    assert errors_of(text) == [
        f"desk.toml:{at(text, 'impact_2')}: priority_matrix: impact_2 must list 3 priorities "
        '(urgency 1, 2, 3), e.g. ["P1", "P2", "P3"]',
        f"desk.toml:{at(text, 'impact_3')}: priority_matrix: "
        "impact_3: 'P5' is not a priority P1–P4",
    ]


def test_priority_matrix_accepts_numbers_or_labels() -> None:
    text = (
        BASE
        + '\n[priority_matrix]\nimpact_1 = [1, 1, 2]\nimpact_2 = ["P2", "P3", "P4"]\n'
        + "impact_3 = [3, 4, 4]\n"
    )
    assert load_desk_text(text, "desk.toml").priority_matrix == ((1, 1, 2), (2, 3, 4), (3, 4, 4))


def test_kpi_target_range_and_unknown_key() -> None:
    text = BASE + "\n[kpi_targets]\ncsat_min = 6\navailability = 99.9\n"
    assert errors_of(text) == [
        f"desk.toml:{at(text, 'csat_min')}: kpi_targets: "
        "csat_min must be at least 1 and at most 5, not 6",
        f"desk.toml:{at(text, 'availability =')}: kpi_targets: unknown key 'availability' "
        "(did you mean 'availability_percent'?)",
    ]


def test_dashboard_refresh_is_a_whole_number_of_seconds_in_range() -> None:
    good = BASE + "\n[kpi_targets]\nrefresh_seconds = 30\n"
    targets = load_desk_text(good, "desk.toml").kpi_targets
    assert targets is not None and targets.refresh_seconds == 30
    text = BASE + "\n[kpi_targets]\nrefresh_seconds = 0\n"
    assert errors_of(text) == [
        f"desk.toml:{at(text, 'refresh_seconds')}: kpi_targets: "
        "refresh_seconds must be between 1 and 3600, not 0",
    ]


def test_change_types_must_cover_all_three_and_be_consistent() -> None:
    text = BASE + (
        "\n[change_types.standard]\npre_approved = true\ncab_required = true\n"
        "\n[change_types.normal]\ncab_required = true\nquorum = 0\n"
    )
    assert errors_of(text) == [
        f"desk.toml:{at(text, '[change_types.standard]')}: change types: "
        "change type 'emergency' is missing: [change_types.emergency]",
        f"desk.toml:{at(text, 'pre_approved')}: change type 'standard': "
        "a pre-approved change type cannot also need the CAB",
        f"desk.toml:{at(text, 'quorum = 0')}: change type 'normal': "
        "quorum must be at least 1 when cab_required = true",
    ]


RISK = """
[risk_questionnaire.thresholds]
low = 0
medium = {medium}
high = {high}

[[risk_questionnaire.questions]]
id = "outage"
text = "Outage?"
answers = [
    {{ value = "no", label = "No", weight = 0 }},
    {{ value = "yes", label = "Yes", weight = {weight} }},
]
"""


def test_risk_thresholds_must_increase() -> None:
    text = BASE + RISK.format(medium=5, high=3, weight=5)
    assert only_error(text) == (
        f"desk.toml:{at(text, '[risk_questionnaire.thresholds]')}: risk_questionnaire: "
        "thresholds must increase from low to high"
    )


def test_risk_threshold_above_the_highest_score_is_unreachable() -> None:
    text = BASE + RISK.format(medium=2, high=9, weight=5)
    assert only_error(text) == (
        f"desk.toml:{at(text, 'high = 9')}: risk_questionnaire: "
        "threshold high = 9 is above the highest possible score 5"
    )


def test_risk_answer_errors_point_at_the_answer_line() -> None:
    text = BASE + RISK.format(medium=2, high=4, weight='"five"')
    line = at(text, 'value = "yes"')
    assert only_error(text) == (
        f"desk.toml:{line}: risk question 'outage': weight must be a whole number, not text"
    )


def test_freeze_window_needs_an_offset_and_an_order() -> None:
    text = BASE + (
        '\n[[freeze_windows]]\nname = "A"\n'
        "starts_at = 2026-12-24T00:00:00\nends_at = 2026-12-31T00:00:00Z\n"
        '\n[[freeze_windows]]\nname = "B"\n'
        "starts_at = 2026-12-24T00:00:00Z\nends_at = 2026-12-20T00:00:00Z\n"
    )
    assert errors_of(text) == [
        f"desk.toml:{at(text, 'starts_at = 2026-12-24T00:00:00')}: freeze window 'A': starts_at "
        "2026-12-24T00:00:00 has no UTC offset; add one, e.g. 2026-12-24T00:00:00+08:00 or "
        "2026-12-24T00:00:00Z",
        f"desk.toml:{at(text, 'ends_at = 2026-12-20')}: freeze window 'B': "
        "ends_at must be after starts_at",
    ]


def test_freeze_window_times_become_aware_utc() -> None:
    text = (
        BASE
        + '\n[[freeze_windows]]\nname = "A"\nstarts_at = "2026-12-24T08:00:00+08:00"\n'
        + "ends_at = 2026-12-25T00:00:00Z\n"
    )
    window = load_desk_text(text, "desk.toml").freeze_windows[0]  # type: ignore[index]
    assert window.starts_at == datetime(2026, 12, 24, 0, 0, tzinfo=UTC)
    assert window.starts_at.tzinfo is UTC


def test_budget_periods_are_years_quarters_or_months() -> None:
    text = BASE + (
        '\n[[budgets]]\nperiod = "2026-Q2"\namount = "150000.00"\n'
        '\n[[budgets]]\ncategory = "change"\nperiod = "2026-02"\namount = 1000\ncurrency = "USD"\n'
    )
    q2, feb = load_desk_text(text, "desk.toml").budgets  # type: ignore[misc]
    assert (q2.category, q2.period_start, q2.period_end) == (
        "incident",
        date(2026, 4, 1),
        date(2026, 6, 30),
    )
    assert (feb.period_start, feb.period_end, feb.currency) == (
        date(2026, 2, 1),
        date(2026, 2, 28),
        "USD",
    )
    assert q2.amount == Decimal("150000.00")


def test_budget_errors_period_overlap_and_currency() -> None:
    text = BASE + (
        '\n[[budgets]]\nperiod = "2026"\namount = 100\n'
        '\n[[budgets]]\nperiod = "2026-Q3"\namount = 100\ncurrency = "yuan"\n'
        '\n[[budgets]]\nperiod = "2026-13"\namount = 0\n'
        "\n[[budgets]]\nperiod_start = 2026-12-01\nperiod_end = 2027-02-28\namount = 100\n"
    )
    crossing = at(text, "period_start = 2026-12-01")
    assert errors_of(text) == [
        f"desk.toml:{at(text, 'yuan')}: budget #2: currency 'yuan' is not valid: "
        "three capital letters, e.g. CNY",
        f"desk.toml:{at(text, '2026-13')}: budget #3: period '2026-13' is not a year, quarter "
        "or month: 2026, 2026-Q3, 2026-07",
        f"desk.toml:{at(text, 'amount = 0')}: budget #3: amount must be above 0 and at most "
        "999999999999.99, not 0",
        f"desk.toml:{crossing}: budget 'incident 2026-12-01..2027-02-28': period overlaps "
        "budget 'incident 2026' without lying inside it; a budget may break a longer one "
        "down (a month of its year), not cross it",
    ]


# ---------------------------------------------------------------------------
# Dump → load is the identity


def test_dump_of_the_default_desk_loads_back_equal() -> None:
    desk = load_default_desk()
    assert load_desk_text(dump_toml(desk), "show.toml") == desk


def test_dump_of_a_rich_desk_loads_back_equal() -> None:
    text = (
        BASE
        + RISK.format(medium=2, high=4, weight=5)
        + (
            '\n[[budgets]]\nperiod_start = 2026-01-05\nperiod_end = 2026-02-01\namount = "10.50"\n'
            '\n[[agents]]\nusername = "old"\nactive = false\nroles = ["admin", "cab"]\n'
            'timezone = "Europe/Paris"\nemail = "old@example.com"\n'
            '\n[[catalogue_items]]\ncode = "x"\nname = "Quote \\" and \\\\ backslash"\n'
            '[[catalogue_items.form]]\nname = "c"\nkind = "choice"\nchoices = ["a", "b"]\n'
        )
    )
    desk = load_desk_text(text, "desk.toml")
    again = load_desk_text(dump_toml(desk), "show.toml")
    assert again == desk
    assert again.agents[1].roles == ("cab", "admin")  # type: ignore[index]


def test_empty_section_dumps_as_an_empty_array() -> None:
    desk = load_desk_text("teams = []\n", "desk.toml")
    assert desk.teams == ()
    assert "teams = []" in dump_toml(desk)
    assert load_desk_text(dump_toml(desk), "x.toml") == desk


def test_the_documented_complete_example_validates_and_has_every_section() -> None:
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "desk-config.md").read_text(encoding="utf-8")
    example = doc.split("## A complete example")[1].split("```toml\n")[1].split("```")[0]
    desk = load_desk_text(example, "example.toml")
    assert desk.present() == tuple(
        s for s in desk.__dataclass_fields__ if s not in ("filename", "locator")
    )


def test_sla_section_names_what_meets_the_response_clock() -> None:
    text = '[sla]\nresponse_met_by = ["reply"]\n'
    assert load_desk_text(text, "desk.toml").sla.response_met_by == ("reply",)


def test_sla_section_refuses_an_unknown_trigger_with_its_line() -> None:
    text = '[desk]\nname = "x"\n\n[sla]\nresponse_met_by = ["reply", "phone_call"]\n'
    with pytest.raises(DeskFileError) as err:
        load_desk_text(text, "desk.toml")
    assert err.value.errors == [
        "desk.toml:5: sla: response_met_by: 'phone_call' is not one of: reply, in_progress"
    ]


def test_default_desk_counts_a_reply_or_starting_work_as_the_response() -> None:
    assert load_default_desk().sla.response_met_by == ("reply", "in_progress")


def test_fulfilment_steps_are_read_in_order_with_their_teams() -> None:
    text = BASE.replace(
        'service = "ERP"\n',
        'service = "ERP"\n[[catalogue_items.tasks]]\nname = "Image it"\nteam = "Service Desk"\n'
        'minutes = 90\n[[catalogue_items.tasks]]\nname = "Ship it"\nteam = "Service Desk"\n',
        1,
    )
    item = load_desk_text(text, "desk.toml").catalogue_items[0]  # type: ignore[index]
    assert [(t.name, t.team, t.minutes) for t in item.tasks] == [
        ("Image it", "Service Desk", 90),
        ("Ship it", "Service Desk", None),
    ]


def test_a_fulfilment_step_of_an_unknown_team_is_refused_with_its_line() -> None:
    text = BASE.replace(
        'service = "ERP"\n',
        'service = "ERP"\n[[catalogue_items.tasks]]\nname = "Cable it"\nteam = "Cabling"\n',
        1,
    )
    assert only_error(text) == (
        f"desk.toml:{at(text, 'Cabling')}: catalogue item 'laptop': "
        "team 'Cabling' is not defined (no such team)"
    )


def test_default_desk_new_starter_goes_through_three_teams() -> None:
    item = next(c for c in load_default_desk().catalogue_items or () if c.code == "new-starter")
    assert [t.team for t in item.tasks] == ["Service Desk", "Desktop Support", "Network"]
