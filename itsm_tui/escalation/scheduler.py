"""APScheduler runs the sweep: the `itsm escalator` daemon and the app's background job.

However many schedulers run against one store (several apps, a daemon or two),
each SLA event fires once: that guarantee is the sweep's (see sweep.py), so the
schedulers need no coordination of their own. `coalesce` and `max_instances=1`
keep one scheduler from stacking sweeps when one runs long or the machine slept.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from itsm_tui.data.kpi.rollup import refresh_rollups
from itsm_tui.data.store import Store
from itsm_tui.escalation.sweep import SweepResult, sweep
from itsm_tui.notify.deliverer import Deliverer

log = logging.getLogger("itsm.escalator")

DEFAULT_INTERVAL_S = 30
# KPI rollup days rebuilt after each sweep: a store never refreshed is built within a few
# minutes of sweeps, a week of days per sweep, without holding the write lock long.
KPI_DAYS_PER_SWEEP = 7
JOB_ID = "sla-sweep"
# Notifications go out soon after the sweep writes them, not a sweep interval later.
DELIVER_INTERVAL_S = 10
DELIVER_JOB_ID = "notify-deliver"

Clock = Callable[[], datetime]


def wall_clock() -> datetime:
    return datetime.now(UTC)


def sweep_once(store: Store, now: datetime) -> SweepResult:
    """One sweep in its own write transaction."""
    with store.write() as session:
        return sweep(session, now)


def _describe(result: SweepResult, now: datetime, seconds: float) -> str:
    return (
        f"sweep at {now.isoformat(timespec='seconds')}: warned {len(result.warned)}, "
        f"breached {len(result.breached)}, escalated {len(result.escalated)}, "
        f"notifications {result.notifications} ({seconds:.3f} s)"
    )


def _job(store: Store, clock: Clock, on_result: Callable[[SweepResult], None] | None) -> None:
    started = time.perf_counter()
    now = clock()
    try:
        result = sweep_once(store, now)
    except Exception:
        # A store that is briefly unreachable must not end the daemon: the next run
        # picks up everything that came due meanwhile.
        log.exception("sweep at %s failed", now.isoformat(timespec="seconds"))
        return
    log.info("%s", _describe(result, now, time.perf_counter() - started))
    if on_result is not None:
        on_result(result)
    try:
        # The KPI rollups of the days that changed (and of yesterday, once it is over),
        # a few at a time, so that a dashboard's read rarely has to.
        refresh_rollups(store, now, max_days=KPI_DAYS_PER_SWEEP)
    except Exception:
        log.exception("KPI rollup refresh at %s failed", now.isoformat(timespec="seconds"))


def _add_job(
    scheduler: BlockingScheduler | BackgroundScheduler,
    store: Store,
    interval: float,
    clock: Clock,
    on_result: Callable[[SweepResult], None] | None,
) -> None:
    scheduler.add_job(
        _job,
        IntervalTrigger(seconds=interval, timezone=UTC),
        args=(store, clock, on_result),
        id=JOB_ID,
        coalesce=True,
        max_instances=1,
        # A run delayed by a busy machine still happens, up to one interval late.
        misfire_grace_time=max(1, int(interval)),
        # First sweep at once: a breach that came due while nothing ran is not left waiting.
        next_run_time=datetime.now(UTC),
    )


def _deliver_job(deliverer: Deliverer) -> None:
    try:
        report = deliverer.run_once()
    except Exception:
        # The store or a channel misbehaving must not end the daemon; due rows wait.
        log.exception("notification delivery failed")
        return
    if report.sent or report.retried or report.dead:
        log.info("notifications: %s", report.as_dict())


def _add_deliverer(
    scheduler: BlockingScheduler | BackgroundScheduler, store: Store, clock: Clock
) -> None:
    scheduler.add_job(
        _deliver_job,
        IntervalTrigger(seconds=DELIVER_INTERVAL_S, timezone=UTC),
        args=(Deliverer(store, clock),),
        id=DELIVER_JOB_ID,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=DELIVER_INTERVAL_S,
        next_run_time=datetime.now(UTC),
    )


def run_escalator(
    store: Store, *, interval: float = DEFAULT_INTERVAL_S, clock: Clock = wall_clock
) -> None:
    """The daemon: sweep every `interval` seconds until SIGTERM or Ctrl-C."""
    scheduler = BlockingScheduler(timezone=UTC)
    _add_job(scheduler, store, interval, clock, None)
    _add_deliverer(scheduler, store, clock)

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("escalator stopping (%s)", signal.Signals(signum).name)
        scheduler.shutdown(wait=False)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    log.info("escalator started: sweeping %s every %s s", store.dialect, interval)
    try:
        scheduler.start()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        log.info("escalator stopped")


def start_background(
    store: Store,
    *,
    interval: float = DEFAULT_INTERVAL_S,
    clock: Clock = wall_clock,
    on_result: Callable[[SweepResult], None] | None = None,
    deliver: bool = False,
) -> BackgroundScheduler:
    """The app's escalator: sweeps in a scheduler thread, results handed to `on_result`;
    with `deliver` (itsm serve), it also sends the outbox's notifications."""
    scheduler = BackgroundScheduler(timezone=UTC, daemon=True)
    _add_job(scheduler, store, interval, clock, on_result)
    if deliver:
        _add_deliverer(scheduler, store, clock)
    scheduler.start()
    return scheduler
