"""The dashboard's memory over many refreshes: bench/soak.py's driver, 300 cycles (the
bench runs 10,000). A bound on growth, generous, and no timing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bench.soak import soak_dashboard
from tests.ui.snapshot_apps import CLOCK, build_queue_store

# Between the sample after 100 cycles (caches and the trend's days warm) and the one after
# 300, with the clock moving 10 minutes a cycle (the trend takes in 2 new days).
GROWTH_BOUND_MB = 15.0


# 300 real refreshes: about 150 s on a quiet machine, several times that beside other work.
@pytest.mark.timeout(1800)
def test_dashboard_memory_stays_flat_over_300_refreshes(tmp_path: Path) -> None:
    store = build_queue_store(tmp_path / "desk.db")
    samples = asyncio.run(soak_dashboard(store, actor="alice", start=CLOCK, cycles=300, every=100))
    assert len(samples) == 3
    assert samples[2] - samples[0] < GROWTH_BOUND_MB, samples
