"""A fixed desk of changes for the change detail's tests and snapshots (no random, fixed clock).

The changes in later states are written straight into the store (as an import or the seed
would leave them), so the screen's images do not move when the desk's rules do; the tests
that walk a change through its process do it through the screens.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from itsm_tui.data.models import (
    Agent,
    Change,
    ChangeApproval,
    ChangeCausedIncident,
    FreezeWindow,
    Service,
    ServiceDependency,
)
from itsm_tui.data.store import Store, open_store, sqlite_url
from itsm_tui.desk import create_change, create_ticket
from itsm_tui.desk.records import get_agent, get_change, get_service, get_team
from tests.factories import NOW, build_desk

# Every change screen of the tests lives at this instant (the harness's clock).
CLOCK = NOW + timedelta(hours=2)
NASTY = "[bold red]x[/] \x1b[31mred\x07 标题 🚀"
# A freeze of every service, far from the other windows: any change inside it clashes.
BOARD_MEETING = NOW + timedelta(days=10)


def build_change_desk(store: Store) -> None:
    """The small desk, plus a change manager, a second CAB member, a directory service that
    Email rides on, and the printing service of a standard-change template."""
    build_desk(store)
    with store.write() as session:
        network = get_team(session, "Network")
        session.add_all(
            [
                Agent(
                    username="mike",
                    display_name="Mike Manager",
                    roles="agent change_manager",
                    team_id=network.id,
                ),
                Agent(username="dave", display_name="Dave CAB", roles="cab", team_id=network.id),
            ]
        )
        directory = Service(name="Directory", criticality=2, description="")
        # The default desk's standard-change templates name it.
        printing = Service(name="Printing", criticality=3, description="")
        session.add_all([directory, printing])
        session.flush()
        session.add(
            ServiceDependency(
                service_id=get_service(session, "Email").id, depends_on_id=directory.id
            )
        )


def add_fixed_changes(store: Store) -> dict[str, str]:
    """Changes in several states, their fields set directly; returns their numbers by role."""
    with store.write() as session:
        alice = get_agent(session, "alice")
        nina = get_agent(session, "nina")
        carol = get_agent(session, "carol")
        dave = get_agent(session, "dave")
        start = NOW + timedelta(days=4, hours=12)
        problem = create_ticket(
            session,
            alice,
            type="problem",
            title="Directory replication lags behind",
            impact=2,
            urgency=3,
            now=NOW,
        )
        voting = create_change(
            session,
            alice,
            title="Upgrade the directory servers to 2026.2",
            change_type="normal",
            description="Both directory servers, one after the other.",
            category="infrastructure",
            impact=2,
            services=["Directory"],
            problem=problem.number,
            planned_start=start,
            planned_end=start + timedelta(hours=3),
            implementation_plan="1. Drain dc1.\n2. Upgrade dc1.\n3. Repeat for dc2.",
            backout_plan="Restore the snapshots taken before each step.",
            test_plan="Log in to the mail web client; run the LDAP health check.",
            now=NOW,
        )
        change = get_change(session, voting.number)
        change.status = "authorization"
        change.implementer_id = nina.id
        change.risk = "high"
        change.risk_score = 9
        change.risk_answers = {"users_affected": "company", "outage": "off_hours"}
        change.risk_reasons = [
            {
                "source": "rule",
                "key": "critical_service",
                "level": "high",
                "text": "touches a business-critical service: Directory",
            },
            {
                "source": "questionnaire",
                "key": "score",
                "level": "medium",
                "text": "questionnaire score 9 (threshold medium: 6)",
            },
        ]
        change.quorum = 2
        change.submitted_at = NOW + timedelta(minutes=30)
        session.add_all(
            [
                ChangeApproval(
                    change_id=change.id,
                    approver_id=carol.id,
                    decision="approved",
                    decided_at=NOW + timedelta(hours=1),
                    comment="Fine, with the snapshots " + NASTY,
                ),
                ChangeApproval(change_id=change.id, approver_id=dave.id, decision="pending"),
            ]
        )
        session.add(
            FreezeWindow(
                name="Quarter close",
                starts_at=start + timedelta(hours=2),
                ends_at=start + timedelta(days=1),
                reason="Finance closes the quarter.",
                services=["Directory"],
            )
        )
        session.add(
            FreezeWindow(
                name="Board meeting",
                starts_at=BOARD_MEETING,
                ends_at=BOARD_MEETING + timedelta(hours=4),
                reason="Every system stays as it is while the board meets.",
                services=[],
            )
        )
        incident = create_ticket(
            session,
            alice,
            type="incident",
            title="Mail clients cannot log in after the upgrade",
            impact=2,
            urgency=2,
            service="Email",
            now=NOW,
        )
        done = create_change(
            session,
            alice,
            title=NASTY + " rotate the mail certificates",
            change_type="emergency",
            services=["Email"],
            planned_start=NOW - timedelta(days=3),
            planned_end=NOW - timedelta(days=3) + timedelta(hours=1),
            implementation_plan="Swap the certificate on both relays.",
            backout_plan="Put the old certificate back.",
            test_plan="Send a mail through each relay.",
            now=NOW - timedelta(days=4),
        )
        closed = get_change(session, done.number)
        closed.status = "closed"
        closed.is_open = False
        closed.risk = "medium"
        closed.risk_score = 6
        closed.outcome = "backed_out"
        closed.actual_start = NOW - timedelta(days=3)
        closed.actual_end = NOW - timedelta(days=3) + timedelta(minutes=40)
        closed.review_notes = "The new chain missed an intermediate [i]certificate[/i]."
        closed.lessons_learned = "Check the whole chain with openssl before the window."
        closed.reviewed_at = NOW - timedelta(days=1)
        closed.closed_at = NOW - timedelta(hours=20)
        session.add(
            ChangeCausedIncident(
                change_id=closed.id,
                ticket_id=incident.id,
                linked_at=NOW - timedelta(days=2),
                linked_by_id=alice.id,
            )
        )
        draft = create_change(
            session,
            alice,
            title="Move the VPN concentrator to the new rack",
            change_type="normal",
            services=["VPN"],
            now=NOW,
        )
        # A draft with its plans and no window: what the risk questionnaire is tried on.
        email = create_change(
            session,
            alice,
            title="Raise the mailbox quota to 50 GB",
            change_type="normal",
            services=["Email"],
            implementation_plan="Change the quota policy.",
            backout_plan="Set the old quota back.",
            test_plan="Check a mailbox's quota.",
            now=NOW,
        )
        session.flush()
        numbers = {
            "email": email.number,
            "voting": voting.number,
            "closed": done.number,
            "draft": draft.number,
            "incident": incident.number,
            "problem": problem.number,
        }
    return numbers


def change_store(folder: Path) -> tuple[Store, dict[str, str]]:
    store = open_store(sqlite_url(folder / "desk.db"))
    build_change_desk(store)
    return store, add_fixed_changes(store)


def change_of(store: Store, number: str) -> Change:
    with store.read() as session:
        change = get_change(session, number)
        session.expunge(change)
        return change
