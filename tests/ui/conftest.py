"""Fixtures of the UI tests: a fixed small desk, the ticket screen's demo desk, and a seeded
one of thousands."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from itsm_tui.config import apply_config, load_default_desk
from itsm_tui.data.seed import seed_store
from itsm_tui.data.store import Store, open_store, sqlite_url
from tests.factories import NOW
from tests.ui.detail_apps import demo_store
from tests.ui.snapshot_apps import build_queue_store


@pytest.fixture
def queue_store(tmp_path: Path) -> Iterator[Store]:
    store = build_queue_store(tmp_path / "desk.db")
    try:
        yield store
    finally:
        store.dispose()


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[Store, dict[str, str]]]:
    """The ticket screen's small desk (tests/ui/detail_apps.py) and its tickets' numbers."""
    store, numbers = demo_store(tmp_path)
    yield store, numbers
    store.dispose()


@pytest.fixture(scope="session")
def seeded_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default desk with 3,000 generated tickets, half of them still open (built once)."""
    path = tmp_path_factory.mktemp("seeded") / "desk.db"
    store = open_store(sqlite_url(path))
    with store.write() as session:
        apply_config(session, load_default_desk(), now=NOW)
    seed_store(store, tickets=3000, days=30, seed=3, now=NOW, backlog=0.6)
    store.dispose()
    return path


@pytest.fixture
def seeded_store(seeded_path: Path, tmp_path: Path) -> Iterator[Store]:
    copy = tmp_path / "seeded.db"
    copy.write_bytes(seeded_path.read_bytes())
    store = open_store(sqlite_url(copy))
    try:
        yield store
    finally:
        store.dispose()


@pytest.fixture(autouse=True)
def drafts_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Forms keep drafts under the user's data directory: in tests, a throwaway one."""
    data_home = tmp_path / "xdg-data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data_home))
    return data_home
