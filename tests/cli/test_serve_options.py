"""`itsm serve`'s options: a bad address is one line, and nothing starts."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Itsm, assert_refused


@pytest.mark.parametrize("address", ["127.0.0.1:99999", "127.0.0.1:ssh"])
def test_a_bad_listening_address_is_refused(itsm_sqlite: Itsm, address: str) -> None:
    assert_refused(itsm_sqlite("serve", "--ssh", address, agent="root"), says="--ssh:")
