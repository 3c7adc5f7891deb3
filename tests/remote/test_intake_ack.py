"""The on-call page's acknowledgement link, served by the intake: GET asks, POST
acknowledges once, over a real HTTP connection on both databases."""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import timedelta

from itsm_tui.data.store import Store
from itsm_tui.remote.intake_server import IntakeTokens
from tests.remote.intake_client import Clock, RunningIntake
from tests.store.test_oncall_paging import BREACH, breached_p1, rota_store, token_of

__all__ = ["rota_store"]  # the fixture, used by name


def fetch(url: str, method: str) -> tuple[int, str]:
    request = urllib.request.Request(url, data=b"" if method == "POST" else None, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_the_link_asks_on_get_and_acknowledges_once_on_post(rota_store: Store) -> None:
    number = breached_p1(rota_store)
    token = token_of(rota_store, "fay")
    running = RunningIntake(
        rota_store, Clock(BREACH + timedelta(minutes=4)), IntakeTokens(env_token="t" * 20)
    )
    try:
        url = f"{running.base}/ack/{token}"
        status, page = fetch(url, "GET")
        assert status == 200 and '<form method="post">' in page
        assert fetch(url, "GET")[0] == 200  # a GET acknowledges nothing: a preview may fetch it
        status, page = fetch(url, "POST")
        assert status == 200
        assert f"Acknowledged: {number}" in page and "by fay" in page
        status, page = fetch(url, "POST")
        assert status == 409 and "already acknowledged" in page
        status, page = fetch(f"{running.base}/ack/{token[:-2]}xx", "POST")
        assert status == 404 and "not valid" in page
    finally:
        running.close()
