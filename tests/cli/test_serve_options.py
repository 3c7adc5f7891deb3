"""`itsm serve`'s options: a bad address is one line, and nothing starts."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Itsm, assert_refused


@pytest.mark.parametrize("address", ["127.0.0.1:99999", "127.0.0.1:ssh"])
def test_a_bad_listening_address_is_refused(itsm_sqlite: Itsm, address: str) -> None:
    assert_refused(itsm_sqlite("serve", "--ssh", address, agent="root"), says="--ssh:")


def test_the_browser_side_needs_the_proxys_secret(
    itsm_sqlite: Itsm, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ITSM_WEB_SECRET", raising=False)
    assert_refused(
        itsm_sqlite("serve", "--web", "127.0.0.1:0", agent="root"), says="ITSM_WEB_SECRET"
    )
    monkeypatch.setenv("ITSM_WEB_SECRET", "short")
    assert_refused(itsm_sqlite("serve", "--web", "127.0.0.1:0", agent="root"), says="16 characters")
    monkeypatch.setenv("ITSM_WEB_SECRET", "a" * 32)
    assert_refused(
        itsm_sqlite("serve", "--web", "127.0.0.1:0", "--web-proxy", "10.0.0.300", agent="root"),
        says="--web-proxy:",
    )
