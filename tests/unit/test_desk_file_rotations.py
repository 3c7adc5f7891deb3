"""[[rotations]] in the desk file: each mistake is one line naming its place; a good rota
reads, dumps and reads back the same."""

from __future__ import annotations

from datetime import UTC, date, datetime

from itsm_tui.config import dump_toml, load_desk_text
from tests.unit.test_desk_file import errors_of

PEOPLE = """
[[teams]]
name = "Network"

[[agents]]
username = "ann"

[[agents]]
username = "bob"
"""

GOOD = (
    PEOPLE
    + """
[[rotations]]
team = "Network"
members = ["ann", "bob"]
starts = 2026-03-02
handover_day = "mon"
handover = "08:30"
timezone = "Europe/London"
ack_timeout_minutes = 10

[[rotations.overrides]]
agent = "bob"
covers = "ann"
starts_at = 2026-03-05T18:00:00+00:00
ends_at = 2026-03-06T09:00:00+00:00
reason = "swap"
"""
)


def test_a_rota_reads_and_dumps_back_the_same() -> None:
    desk = load_desk_text(GOOD)
    (rota,) = desk.rotations or ()
    assert (rota.team, rota.members, rota.starts, rota.handover) == (
        "Network",
        ("ann", "bob"),
        date(2026, 3, 2),
        "08:30",
    )
    assert rota.overrides[0].starts_at == datetime(2026, 3, 5, 18, 0, tzinfo=UTC)
    assert load_desk_text(dump_toml(desk)) == desk


def test_each_mistake_is_one_line_with_its_place() -> None:
    bad = (
        GOOD.replace('handover = "08:30"', 'handover = "8.30"')
        .replace("starts = 2026-03-02", "starts = 2026-03-03")
        .replace("ends_at = 2026-03-06T09:00:00+00:00", "ends_at = 2026-03-04T09:00:00+00:00")
    )
    found = errors_of(bad)
    assert len(found) == 3, found
    assert any("handover must be a time HH:MM" in e for e in found)
    assert any("starts 2026-03-03 is a tue, not the handover_day mon" in e for e in found)
    assert any("ends_at must be after starts_at" in e for e in found)
    assert all(e.startswith("desk.toml:") for e in found)


def test_members_covers_and_one_rota_a_team() -> None:
    stranger = GOOD.replace('members = ["ann", "bob"]', 'members = ["ann", "bob", "zed"]')
    assert [e.split(": ", 1)[1] for e in errors_of(stranger)] == [
        "rotation 'Network': members 'zed' is not defined (no such agent)"
    ]
    outsider = GOOD.replace('covers = "ann"', 'covers = "carl"')
    assert any("covers 'carl' is not defined (no such member)" in e for e in errors_of(outsider))
    twice = GOOD + GOOD[GOOD.index("[[rotations]]") :].split("[[rotations.overrides]]")[0]
    assert any("defined twice" in e for e in errors_of(twice))
    daily = GOOD.replace("ack_timeout_minutes = 10", "ack_timeout_minutes = 10\nshift_days = 1")
    assert any("handover_day needs a shift of whole weeks" in e for e in errors_of(daily))
