"""Admins see the notifications the deliverer gave up on (from the inbox, D), each with the
last answer it got as literal text, and send one again with r; other agents are refused."""

from __future__ import annotations

from sqlalchemy import select
from textual.widgets import OptionList, Static

from itsm_tui.data.models import AuditEvent, Notification, OutboxMessage, Ticket
from itsm_tui.desk.records import get_agent
from itsm_tui.screens.dead_letters import DeadLettersScreen
from itsm_tui.screens.inbox import InboxScreen
from tests.factories import NOW
from tests.ui.detail_apps import DetailHarness, context, run_async, settle

ANSWER = "503 [b]upstream[/b] down\x1b[2J"


def add_dead_letter(store, number: str) -> int:  # type: ignore[no-untyped-def]
    with store.write() as session:
        ticket_id = session.scalars(select(Ticket.id).where(Ticket.number == number)).one()
        notice = Notification(
            agent_id=get_agent(session, "alice").id,
            ticket_id=ticket_id,
            kind="page",
            message=f"{number} breached its response SLA (P1)",
            created_at=NOW,
            deliver_at=NOW,
        )
        session.add(notice)
        session.flush()
        letter = OutboxMessage(
            notification_id=notice.id,
            recipient="alice",
            channel="webhook",
            address="env:ALICE_HOOK",
            quiet=False,
            state="dead",
            due_at=NOW,
            attempts=6,
            created_at=NOW,
            last_error=ANSWER,
        )
        session.add(letter)
        session.flush()
        return letter.id


@run_async
async def test_an_admin_sees_a_dead_letter_and_sends_it_again(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    letter = add_dead_letter(store, numbers["vpn"])
    app = DetailHarness(context(store, "root"), InboxScreen)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("D")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DeadLettersScreen)
        assert [r.id for r in screen.rows] == [letter]
        prompt = str(screen.query_one("#dead-list", OptionList).get_option_at_index(0).prompt)
        assert f"webhook → alice  {numbers['vpn']}  ×6" in prompt
        # The service's answer is shown as it came, markup and escape byte made visible.
        assert "503 [b]upstream[/b] down\\x1b[2J" in prompt
        await pilot.press("r")
        await settle(pilot)
        assert screen.rows == []
        status = screen.query_one("#dead-status", Static)
        assert "No dead letters" in str(status.render())
    with store.read() as session:
        row = session.get(OutboxMessage, letter)
        assert (row.state, row.attempts) == ("pending", 0)
        audit = session.scalars(select(AuditEvent).where(AuditEvent.record_type == "outbox")).one()
        assert (audit.action, audit.old_value, audit.new_value) == ("retry", "dead", "pending")


@run_async
async def test_an_agent_is_told_dead_letters_are_for_admins(demo) -> None:  # type: ignore[no-untyped-def]
    store, numbers = demo
    add_dead_letter(store, numbers["vpn"])
    app = DetailHarness(context(store, "alice"), DeadLettersScreen)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DeadLettersScreen)
        assert screen.rows == []
        status = str(screen.query_one("#dead-status", Static).render())
        assert "needs the role admin" in status
