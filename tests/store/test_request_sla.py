"""A catalogue request's resolution clock is timed by its item's delivery standard, on
SQLite and PostgreSQL: the clock's due time and the request's promised instant agree,
a five-working-day request is not breached after the priority's one day, and a change
of priority or of the desk file's policy keeps the standard.

The desk is the shipped default desk (tests/sla_desk.py): business calendar
Asia/Shanghai Mon–Fri 09:00–12:00 and 13:30–18:00 (450 minutes a day), the "Service
request" policy (resolution 450 minutes, paused while awaiting approval), the
new-starter item (2250 minutes, 5 working days, approval by a supervisor). Expected
instants are worked out by hand in that calendar; no holidays fall between 2026-11-23
and 2026-12-04.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import update

from itsm_tui.config import apply_config, load_desk_text
from itsm_tui.data.models import SlaClock
from itsm_tui.data.store import Store
from itsm_tui.desk import transition_ticket, update_ticket
from itsm_tui.desk.records import get_agent, get_ticket
from tests.conftest import BACKENDS
from tests.sla_desk import clocks, create, desk_store, desk_text, local, run_sweep

TUE_0930 = local(2026, 11, 24, 9, 30)
STARTER_FORM = {"full_name": "Wei Li", "start_date": "2026-12-07", "department": "Finance"}


@pytest.fixture(params=BACKENDS)
def sla_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    yield from desk_store(request, tmp_path)


def starter(store: Store) -> str:
    return create(
        store,
        TUE_0930,
        impact=3,
        urgency=3,
        type="request",
        catalogue_item="new-starter",
        form_data=STARTER_FORM,
    )


def promised(store: Store, number: str) -> datetime | None:
    with store.read() as session:
        return get_ticket(session, number).promised_at


def approve(store: Store, number: str, at: datetime) -> None:
    with store.write() as session:
        transition_ticket(session, get_agent(session, "sue"), number, "approved", now=at)


def test_the_resolution_clock_takes_the_items_standard_and_agrees_with_the_promise(
    sla_store: Store,
) -> None:
    number = starter(sla_store)
    got = clocks(sla_store, number)
    assert got["resolution"].policy.name == "Service request"  # its calendar and pauses
    assert got["resolution"].target_minutes == 2250  # not the policy's 450
    assert got["response"].target_minutes == 30  # the response is the policy's
    approve(sla_store, number, local(2026, 11, 25, 9, 30))
    # Five working days from Wednesday 09:30: Thu, Fri, Mon, Tue, Wed.
    due = local(2026, 12, 2, 9, 30)
    assert clocks(sla_store, number)["resolution"].due_at == due
    assert promised(sla_store, number) == due


def test_a_request_within_its_standard_is_not_breached_after_one_day(sla_store: Store) -> None:
    number = starter(sla_store)
    approve(sla_store, number, local(2026, 11, 25, 9, 30))
    run_sweep(sla_store, local(2026, 11, 27, 17, 0))  # 2 days 7 hours into the promise
    resolution = clocks(sla_store, number)["resolution"]
    assert resolution.state == "running"
    assert resolution.breached_at is None
    run_sweep(sla_store, local(2026, 12, 2, 9, 31))  # a minute past it
    assert clocks(sla_store, number)["resolution"].state == "breached"


def test_a_priority_change_keeps_the_standard(sla_store: Store) -> None:
    number = starter(sla_store)
    approve(sla_store, number, local(2026, 11, 25, 9, 30))
    with sla_store.write() as session:
        update_ticket(
            session, get_agent(session, "tia"), number, urgency=1, now=local(2026, 11, 25, 10, 0)
        )
    resolution = clocks(sla_store, number)["resolution"]
    assert resolution.target_minutes == 2250
    assert resolution.due_at == promised(sla_store, number)


def test_a_request_without_an_item_keeps_the_policys_target(sla_store: Store) -> None:
    number = create(sla_store, TUE_0930, impact=3, urgency=3, type="request")
    assert clocks(sla_store, number)["resolution"].target_minutes == 450
    assert promised(sla_store, number) is None


def test_re_timing_by_the_desk_file_gives_an_old_request_its_standard(sla_store: Store) -> None:
    """A store from before the rule: the request's clock has the policy's day. When the
    desk file changes the request policy's timing, the re-timing applies the standard."""
    number = starter(sla_store)
    approve(sla_store, number, local(2026, 11, 25, 9, 30))
    with sla_store.write() as session:
        ticket_id = get_ticket(session, number).id
        session.execute(
            update(SlaClock)
            .where(SlaClock.ticket_id == ticket_id, SlaClock.kind == "resolution")
            .values(target_minutes=450, due_at=local(2026, 11, 26, 9, 30))
        )
    text = desk_text().replace(
        "resolution_minutes = 450             # 1 business day", "resolution_minutes = 900", 1
    )
    assert "resolution_minutes = 900" in text
    with sla_store.write() as session:
        apply_config(session, load_desk_text(text, "desk.toml"), now=local(2026, 11, 25, 10, 0))
    resolution = clocks(sla_store, number)["resolution"]
    assert resolution.target_minutes == 2250
    assert resolution.due_at == promised(sla_store, number) == local(2026, 12, 2, 9, 30)
