"""The alert intake served on a thread of its own for tests, and a plain HTTP client to it."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from typing import Any

from itsm_tui.data.models import Agent
from itsm_tui.data.store import Store
from itsm_tui.remote.intake_server import IntakeServer, IntakeTokens
from tests.factories import NOW

TOKEN = "test-intake-token-0123456789"


class Clock:
    """The intake's `now`, moved by the test."""

    def __init__(self, at: datetime = NOW) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **kwargs: float) -> None:
        self.at += timedelta(**kwargs)


def add_monitoring_agent(store: Store) -> None:
    with store.write() as session:
        session.add(Agent(username="monitoring", display_name="Monitoring", roles="agent"))


class RunningIntake:
    """IntakeServer on 127.0.0.1 (a free port) with its own event loop thread."""

    def __init__(self, store: Store, clock: Clock, tokens: IntakeTokens | None = None) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = IntakeServer(
            store, clock, ("127.0.0.1", 0), tokens or IntakeTokens(env_token=TOKEN)
        )
        self._call(self.server.start())
        self.base = f"http://127.0.0.1:{self.server.port}"

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def post(
        self, path: str, payload: Any, *, token: str | None = TOKEN, scheme: str = "Bearer"
    ) -> tuple[int, str]:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        request = urllib.request.Request(self.base + path, data=body, method="POST")
        request.add_header("Content-Type", "application/json")
        if token is not None:
            request.add_header("Authorization", f"{scheme} {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def settle(self) -> None:
        """Wait until the worker has taken in everything kept."""
        assert self.server.worker is not None
        self.server.worker.wake()
        assert self.server.worker.wait_idle(60), "the intake worker did not finish"

    def close(self) -> None:
        self._call(self.server.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def alertmanager(
    *alerts: dict[str, Any], status: str = "firing", group_key: str = '{}:{alertname="Down"}'
) -> dict[str, Any]:
    """A version 4 webhook payload as Alertmanager sends it."""
    return {
        "version": "4",
        "groupKey": group_key,
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "itsm",
        "groupLabels": {"alertname": "Down"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": list(alerts),
    }


def alert(
    fingerprint: str,
    *,
    status: str = "firing",
    starts: datetime = NOW - timedelta(minutes=5),
    ends: datetime | None = None,
    **labels: str,
) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": "Down", **labels},
        "annotations": {"summary": f"{labels.get('instance', fingerprint)} is down"},
        "startsAt": starts.isoformat().replace("+00:00", "Z"),
        "endsAt": ends.isoformat().replace("+00:00", "Z") if ends else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up%3D%3D0",
        "fingerprint": fingerprint,
    }
