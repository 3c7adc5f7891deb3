"""Enter on a KPI tile: the queue's view and filter line hold exactly the tickets behind the
figure (the period's `resolved:` days), in the cut shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from itsm_tui.data.directory import desk_directory
from itsm_tui.data.kpi import cut_named, kpi_report
from itsm_tui.data.kpi.period import period_between, period_ending
from itsm_tui.data.queue_pages import count_queue
from itsm_tui.data.seed import seed_store
from itsm_tui.data.store import Store
from itsm_tui.desk.zones import desk_zone
from itsm_tui.screens.kpi.dashboard import RESOLVED_IN_PERIOD, drill_down
from itsm_tui.screens.kpi.reading import Scope
from itsm_tui.screens.queue import view_query
from itsm_tui.screens.queue_filter import apply_filter_text
from tests.store.test_seed import NOW, make_desk

# Each counts one sample per ticket resolved in the period (tickets_per_agent_day counts
# only those with an assignee, which the filter line cannot say: shown, not counted here).
TICKET_SAMPLED = sorted(RESOLVED_IN_PERIOD - {"tickets_per_agent_day"})


@dataclass
class Clock:
    """What view_query needs of the app's context: the time."""

    at: datetime

    def now(self) -> datetime:
        return self.at


@pytest.fixture
def seeded(store: Store) -> Store:
    make_desk(store)
    # A seed whose Service Desk resolved incidents in the last 7 days (every KPI has samples).
    seed_store(store, tickets=600, days=60, now=NOW, seed=2)
    return store


@pytest.mark.parametrize("scope", [Scope(), Scope(team="Service Desk")], ids=["desk", "team"])
# "past": a custom period that ended ten days ago, so the last day's bound matters too.
@pytest.mark.parametrize("days", ["7d", "30d", "past"])
def test_the_drill_down_holds_as_many_tickets_as_the_kpi_counted(
    seeded: Store, scope: Scope, days: str
) -> None:
    with seeded.read() as session:
        zone = desk_zone(session)
        if days == "past":
            today = NOW.astimezone(zone).date()
            period = period_between(today - timedelta(days=30), today - timedelta(days=10), zone)
        else:
            period = period_ending(NOW, zone, days)
        report = kpi_report(
            session, period, cut_named(session, team=scope.team), NOW, with_previous=False
        ).by_key()
        directory = desk_directory(session, "root")
        for key in TICKET_SAMPLED:
            view, text = drill_down(key, scope, period)
            assert f"resolved:{period.first_day}..{period.last_day}" in text, key
            base = view_query(view, directory, Clock(NOW))  # type: ignore[arg-type]
            query, _chosen = apply_filter_text(base, text, directory)
            samples = report[key].samples
            assert samples, (key, "nothing to compare: the seed must resolve tickets")
            assert count_queue(session, query, now=NOW) == samples, (key, text)


def test_without_the_period_the_recently_resolved_view_is_not_the_figure(seeded: Store) -> None:
    # Why the term exists: the view alone (the last day) holds other tickets than 30 days'.
    with seeded.read() as session:
        period = period_ending(NOW, desk_zone(session), "30d")
        report = kpi_report(session, period, cut_named(session), NOW, with_previous=False)
        directory = desk_directory(session, "root")
        view, text = drill_down("reopen_rate", Scope())
        query, _chosen = apply_filter_text(
            view_query(view, directory, Clock(NOW)),  # type: ignore[arg-type]
            text,
            directory,
        )
        assert count_queue(session, query, now=NOW) < (report.by_key()["reopen_rate"].samples or 0)
