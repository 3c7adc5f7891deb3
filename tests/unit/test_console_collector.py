"""A remote console keeps what its start built out of the garbage collector's walks, and
collects the young less often (opening a ticket set off 30-90 ms young collections)."""

from __future__ import annotations

import gc

from itsm_tui.remote.console import YOUNG_COLLECTED_AFTER, keep_out_of_collector


def test_the_start_is_frozen_and_young_collections_are_rarer() -> None:
    threshold = gc.get_threshold()
    try:
        keep_out_of_collector()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (YOUNG_COLLECTED_AFTER, *threshold[1:])
        assert threshold[0] < YOUNG_COLLECTED_AFTER
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
