"""The change board's reads on both databases: column order, counts, done columns, filters,
keyset pages and the CAB member's pending votes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from itsm_tui.data import change_board
from itsm_tui.data.change_board import BoardFilter, column_counts, column_page, read_board
from itsm_tui.data.models import Change, ChangeApproval
from itsm_tui.desk import create_change
from itsm_tui.desk.records import get_agent
from itsm_tui.domain.workflow import CHANGE_DONE, CHANGE_STATUSES
from tests.factories import NOW


def _change(  # type: ignore[no-untyped-def]
    session, title, *, status="draft", start_in=None, kind="normal", services=(), closed_ago=None
):
    alice = get_agent(session, "alice")
    change = create_change(
        session, alice, title=title, services=list(services), now=NOW - timedelta(days=1)
    )
    # The reads are under test, not the process: put the change where the test needs it
    # (its type, state and window as they would stand after its steps).
    start = NOW + start_in if start_in is not None else None
    values: dict[str, object] = {
        "status": status,
        "is_open": status not in CHANGE_DONE,
        "change_type": kind,
        "planned_start": start,
        "planned_end": start + timedelta(hours=2) if start else None,
    }
    if closed_ago is not None:
        values["closed_at"] = NOW - closed_ago
    session.execute(update(Change).where(Change.id == change.id).values(**values))
    return change


def test_open_column_runs_by_planned_start_then_unplanned(desk) -> None:  # type: ignore[no-untyped-def]
    with desk.store.write() as session:
        _change(session, "late", status="scheduled", start_in=timedelta(days=3))
        _change(session, "unplanned", status="scheduled")
        _change(session, "early", status="scheduled", start_in=timedelta(days=1))
        _change(session, "draft elsewhere", status="draft", start_in=timedelta(hours=1))
    with desk.store.read() as session:
        cards = column_page(session, "scheduled", now=NOW)
    assert [c.title for c in cards] == ["early", "late", "unplanned"]


def test_keyset_pages_continue_across_planned_and_unplanned(desk) -> None:  # type: ignore[no-untyped-def]
    with desk.store.write() as session:
        for i in range(5):
            _change(session, f"p{i}", status="assessment", start_in=timedelta(hours=5 - i))
        for i in range(3):
            _change(session, f"u{i}", status="assessment")
    with desk.store.read() as session:
        seen = []
        after = None
        while True:
            page = column_page(session, "assessment", now=NOW, after=after, limit=3)
            if not page:
                break
            seen += [c.title for c in page]
            after = page[-1].key
    assert seen == ["p4", "p3", "p2", "p1", "p0", "u0", "u1", "u2"]


def test_done_columns_show_recent_ones_newest_first(desk) -> None:  # type: ignore[no-untyped-def]
    with desk.store.write() as session:
        _change(session, "closed long ago", status="closed", closed_ago=timedelta(days=45))
        _change(session, "closed last week", status="closed", closed_ago=timedelta(days=7))
        _change(session, "closed today", status="closed", closed_ago=timedelta(hours=2))
        _change(session, "rejected", status="rejected", closed_ago=timedelta(days=1))
    with desk.store.read() as session:
        board = read_board(session, agent_id=None, now=NOW)
    closed = board.column("closed")
    assert [c.title for c in closed.cards] == ["closed today", "closed last week"]
    assert closed.count == 2
    assert closed.since == NOW - change_board.RECENT_DONE
    assert board.column("rejected").count == 1
    assert [c.status for c in board.columns] == list(CHANGE_STATUSES)


def test_counts_cover_the_whole_column_beyond_the_cards_read(desk) -> None:  # type: ignore[no-untyped-def]
    with desk.store.write() as session:
        for i in range(7):
            _change(session, f"s{i}", status="scheduled", start_in=timedelta(hours=i + 1))
    with desk.store.read() as session:
        board = read_board(session, agent_id=None, now=NOW, depth={"scheduled": 2})
        counts = column_counts(session, now=NOW)
    scheduled = board.column("scheduled")
    assert scheduled.count == 7 and counts["scheduled"] == 7
    # depth only ever asks for more than PER_COLUMN, never fewer.
    assert len(scheduled.cards) == 7 and scheduled.complete
    assert counts["draft"] == 0


def test_filter_by_type_and_service(desk) -> None:  # type: ignore[no-untyped-def]
    with desk.store.write() as session:
        _change(session, "mail std", kind="standard", services=["Email"])
        _change(session, "vpn normal", services=["VPN"])
        _change(session, "both emergency", kind="emergency", services=["VPN", "Email"])
    with desk.store.read() as session:
        by_type = read_board(
            session, agent_id=None, now=NOW, board_filter=BoardFilter(change_type="emergency")
        )
        by_service = read_board(
            session, agent_id=None, now=NOW, board_filter=BoardFilter(service="Email")
        )
    assert [c.title for c in by_type.column("draft").cards] == ["both emergency"]
    assert [c.title for c in by_service.column("draft").cards] == ["mail std", "both emergency"]
    assert by_service.column("draft").count == 2


def test_pending_votes_stand_out_and_filter(desk) -> None:  # type: ignore[no-untyped-def]
    with desk.store.write() as session:
        mine = _change(session, "waits for carol", status="authorization")
        voted = _change(session, "carol voted", status="authorization")
        _change(session, "no vote asked", status="authorization")
        carol = get_agent(session, "carol")
        session.add_all(
            [
                ChangeApproval(change_id=mine.id, approver_id=carol.id, decision="pending"),
                ChangeApproval(
                    change_id=voted.id, approver_id=carol.id, decision="approved", decided_at=NOW
                ),
            ]
        )
        carol_id = carol.id
        alice_id = get_agent(session, "alice").id
    with desk.store.read() as session:
        board = read_board(session, agent_id=carol_id, now=NOW)
        only_mine = read_board(
            session, agent_id=carol_id, now=NOW, board_filter=BoardFilter(awaiting_me=True)
        )
        alice_board = read_board(session, agent_id=alice_id, now=NOW)
    cards = {c.title: c for c in board.column("authorization").cards}
    assert cards["waits for carol"].awaiting_me
    assert not cards["carol voted"].awaiting_me and not cards["no vote asked"].awaiting_me
    assert board.awaiting_me == (mine.number,)
    assert [c.title for c in only_mine.column("authorization").cards] == ["waits for carol"]
    assert only_mine.column("authorization").count == 1
    assert sum(c.count for c in only_mine.columns) == 1
    assert alice_board.awaiting_me == ()


def test_an_uncounted_board_counts_only_columns_its_read_covered(desk) -> None:  # type: ignore[no-untyped-def]
    with desk.store.write() as session:
        for i in range(change_board.PER_COLUMN + 1):
            _change(session, f"s{i}", status="scheduled", start_in=timedelta(hours=i + 1))
        _change(session, "one draft")
    with desk.store.read() as session:
        board = read_board(session, agent_id=None, now=NOW, counted=False)
        counts = column_counts(session, now=NOW)
    # A full first page may hide more: counted afterwards; a short one is its own count.
    assert board.column("scheduled").count is None
    assert len(board.column("scheduled").cards) == change_board.PER_COLUMN
    assert not board.column("scheduled").complete
    assert board.column("draft").count == 1 and board.column("closed").count == 0
    assert counts["scheduled"] == change_board.PER_COLUMN + 1
