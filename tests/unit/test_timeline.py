"""The timeline for people: writes grouped, labels and values as read, internals hidden."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from itsm_tui.data.history import AuditRow, CommentRow, EscalationRow
from itsm_tui.screens.text import when
from itsm_tui.screens.timeline import entries, shown_value

AT = datetime(2026, 12, 1, 23, 21, 30, 18681, tzinfo=UTC)
_ids = iter(range(1, 10_000))


def event(field, old, new, *, action="update", version=2, actor="bob", reason=None, at=AT):  # type: ignore[no-untyped-def]
    return AuditRow(next(_ids), at, actor, action, field, old, new, version, reason)


def reopen_write() -> tuple[list[AuditRow], list[CommentRow]]:
    """What `reopen_ticket` writes: seven audit events carrying the reason, and a note."""
    reason = "Still jams on tray 2"
    audit = [
        event(f, o, n, action="reopen", version=5, reason=reason)
        for f, o, n in (
            ("status", "resolved", "in_progress"),
            ("is_open", "false", "true"),
            ("resolved_at", AT.isoformat(), None),
            ("resolution_code", "fixed", None),
            ("resolution_notes", "Cleared the jam.", None),
            ("reopen_count", "0", "1"),
        )
    ]
    audit.append(
        event("comment", None, "work_note", action="comment.work_note", version=5, reason=reason)
    )
    return audit, [CommentRow(1, AT, "bob", "work_note", reason)]


def test_a_reopen_is_one_entry_with_its_reason_once() -> None:
    audit, comments = reopen_write()
    (entry,) = entries(audit, comments, [])
    assert entry.head == "reopened" and entry.who == "bob"
    assert entry.changes == (("Status", "resolved", "in progress"),)
    assert entry.body == "Still jams on tray 2"


def test_internal_fields_never_show() -> None:
    audit = [
        event("status", "in_progress", "resolved", action="resolve"),
        event("is_open", "true", "false", action="resolve"),
        event("resolved_at", None, AT.isoformat(), action="resolve"),
        event("sla_due_at", None, AT.isoformat(), action="resolve"),
        event("version", "1", "2", action="resolve"),
        event("resolution_code", None, "fixed", action="resolve"),
        event("resolution_notes", None, "Re-patched the cable.", action="resolve"),
    ]
    (entry,) = entries(audit, [], [])
    shown = " ".join(f"{label} {old} {new}" for label, old, new in entry.changes)
    for hidden in ("is_open", "resolved_at", "sla_due_at", "version", "true", "2026-12-01T"):
        assert hidden not in shown + entry.head
    assert entry.changes == (("Status", "in progress", "resolved"), ("Resolution", "—", "fixed"))
    assert entry.body == "Re-patched the cable."


def test_one_change_writes_say_it_in_their_head_with_labels_and_values_as_read() -> None:
    (assign,) = entries([event("assignee", None, "alice", action="assign")], [], [])
    assert assign.head == "Assignee: — → alice" and assign.changes == ()
    (override,) = entries(
        [
            event("priority", "3", "1", action="priority.override", reason="CEO affected"),
            event("priority_overridden", "false", "true", action="priority.override"),
            event(
                "sla.resolution",
                "Standard: 480 min",
                "P1: 120 min (P1)",
                action="sla.retarget",
                reason="CEO affected",
            ),
        ],
        [],
        [],
    )
    assert override.head == "overrode the priority"
    assert override.changes == (
        ("Priority", "P3", "P1"),
        ("Resolution target", "Standard: 8h", "P1: 2h (P1)"),
    )
    assert override.body == "CEO affected"
    assert shown_value("impact", "1") == "1 high"
    assert shown_value("known_error", "true") == "yes"


def test_a_requests_promise_reads_as_a_time_in_the_readers_zone() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    assert shown_value("promised_at", "2026-12-03T10:00:00+00:00", shanghai) == (
        shown_value("planned_start", "2026-12-03T10:00:00+00:00", shanghai)
    )
    assert "T10:00:00" not in shown_value("promised_at", "2026-12-03T10:00:00+00:00", shanghai)
    assert "18:00" in shown_value("promised_at", "2026-12-03T10:00:00+00:00", shanghai)


def test_writes_are_told_apart_by_version_and_ordered_newest_first() -> None:
    later = AT + timedelta(minutes=5)
    audit = [
        event(
            None,
            None,
            '{"type": "incident", "priority": "P2", "team": "Service Desk"}',
            action="create",
            version=1,
        ),
        event("assignee", None, "alice", action="assign", version=2),
        event("comment", None, "reply", action="comment.reply", version=3, actor="alice", at=later),
        event(
            "first_response_at",
            None,
            later.isoformat(),
            action="comment",
            version=3,
            actor="alice",
            at=later,
        ),
    ]
    comments = [CommentRow(7, later, "alice", "reply", "On it.")]
    escalation = EscalationRow(
        3,
        later + timedelta(minutes=1),
        "breach",
        1,
        "response",
        "P2 breach",
        "missed",
        ("notify_supervisor",),
    )
    shown = entries(audit, comments, [escalation])
    assert [e.kind for e in shown] == ["escalation", "reply", "change", "created"]
    assert shown[0].head == "breach level 1 on the response clock — notify supervisor"
    assert shown[1].body == "On it." and shown[1].changes == ()
    assert shown[3].head == "opened the incident · P2 · Service Desk"


def test_recent_times_are_relative_older_ones_absolute_in_the_zone() -> None:
    now = AT
    shanghai = ZoneInfo("Asia/Shanghai")
    assert when(now - timedelta(seconds=20), now, shanghai) == "just now"
    assert when(now - timedelta(minutes=25), now, shanghai) == "25 min ago"
    assert when(now - timedelta(hours=3, minutes=50), now, shanghai) == "3 h ago"
    # 2026-11-30 09:00 UTC is 17:00 in Shanghai.
    assert when(datetime(2026, 11, 30, 9, 0, tzinfo=UTC), now, shanghai) == "30 Nov 17:00"
    assert when(datetime(2025, 11, 30, 9, 0, tzinfo=UTC), now, shanghai) == "2025-11-30 17:00"


def test_loaded_pages_join_and_a_gap_starts_the_timeline_over() -> None:
    from itsm_tui.data.history import HistoryPage
    from itsm_tui.screens.timeline import LoadedHistory

    def page(minutes: list[int], older_than: int | None) -> HistoryPage:
        rows = tuple(
            event(
                "assignee", None, f"a{m}", action="assign", version=m, at=AT + timedelta(minutes=m)
            )
            for m in minutes
        )
        start = None if older_than is None else AT + timedelta(minutes=older_than)
        return HistoryPage(audit=rows, comments=(), escalations=(), older_than=start)

    history = LoadedHistory()
    history.add(page([10, 9, 8], older_than=8), newest=True)
    history.add(page([7, 6], older_than=None), newest=False)
    assert len(history.entries()) == 5 and history.older_than is None
    # A reload whose newest page still reaches what is held: merged, older pages kept.
    history.add(page([11, 10, 9], older_than=9), newest=True)
    assert len(history.entries()) == 6 and history.older_than is None
    # Many writes since: the newest page starts after all that is held; no silent hole.
    history.add(page([30, 29, 28], older_than=28), newest=True)
    assert [e.head for e in history.entries()] == [
        "Assignee: — → a30",
        "Assignee: — → a29",
        "Assignee: — → a28",
    ]
    assert history.older_than == AT + timedelta(minutes=28)


def test_a_retarget_says_where_the_due_time_moved_in_the_readers_zone() -> None:
    from itsm_tui.desk.sla import DUE_MOVED

    old, new = datetime(2026, 11, 27, 1, 30, tzinfo=UTC), datetime(2026, 11, 24, 3, 30, tzinfo=UTC)
    same_day = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
    (entry,) = entries(
        [
            event("priority", "3", "1", action="priority.override", reason="VIP"),
            event("sla.resolution", old.isoformat(), new.isoformat(), action=DUE_MOVED),
            event("sla.response", old.isoformat(), same_day.isoformat(), action=DUE_MOVED),
        ],
        [],
        [],
        ZoneInfo("Asia/Shanghai"),
    )
    assert entry.changes == (
        ("Priority", "P3", "P1"),
        ("Response due", "2026-11-27 09:30", "11:00"),
        ("Resolution due", "2026-11-27 09:30", "2026-11-24 11:30"),
    )
