"""`itsm escalate`, `itsm sla breaching`, SLA fields of `ticket show`, and the escalator daemon."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from itsm_tui.cli import cli
from itsm_tui.cli.env import login_name
from itsm_tui.data.models import Escalation
from itsm_tui.data.store import open_store, sqlite_url
from tests.factories import NOW

NOW_ISO = NOW.isoformat().replace("+00:00", "Z")
# The daemon runs as a real process: the desk's admin is whoever runs the tests.
ME = login_name()
HOURS_AGO_3 = (NOW - timedelta(hours=3)).isoformat().replace("+00:00", "Z")


def run(url: str, *args: str, now: str | None = NOW_ISO) -> Result:
    clock = ["--now", now] if now else []
    return CliRunner().invoke(cli, ["--db", url, "--as", ME, *clock, *args])


def ok(url: str, *args: str, now: str | None = NOW_ISO) -> Any:
    result = run(url, *args, now=now)
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return json.loads(result.stdout) if "--json" in args else result.stdout


@pytest.fixture
def desk_url(db_url: str) -> str:
    """A store initialised as a newcomer would: `itsm init` (default desk, you as admin)."""
    ok(db_url, "init")
    return db_url


def p1(url: str, opened: str, *, now: str | None = NOW_ISO) -> str:
    return ok(
        url,
        "ticket",
        "create",
        "--type",
        "incident",
        "--title",
        "Core switch down",
        "--impact",
        "1",
        "--urgency",
        "1",
        "--opened-at",
        opened,
        "--json",
        now=now,
    )["number"]


def test_escalate_fires_each_event_once_and_prints_what_it_did(desk_url: str) -> None:
    number = p1(desk_url, HOURS_AGO_3)
    first = ok(desk_url, "escalate", "--json")
    assert first["breached"] == [
        {"number": number, "kind": "response"},
        {"number": number, "kind": "resolution"},
    ]
    assert {(e["kind"], e["level"]) for e in first["escalated"]} == {
        ("response", 1),
        ("response", 2),
        ("resolution", 1),
        ("resolution", 2),
    }
    assert {(w["kind"], w["threshold"]) for w in first["warned"]} == {
        ("response", 50),
        ("response", 75),
        ("resolution", 50),
        ("resolution", 75),
    }
    assert ok(desk_url, "escalate", "--json") == {
        "warned": [],
        "breached": [],
        "escalated": [],
        "paged": [],
    }


def test_show_json_carries_sla_clocks_and_escalations(desk_url: str) -> None:
    number = p1(desk_url, (NOW - timedelta(minutes=10)).isoformat())
    detail = ok(desk_url, "ticket", "show", number, "--json")
    response, resolution = detail["sla"]
    assert response == {
        "kind": "response",
        "policy": "P1 incident",
        "target_minutes": 15,
        "started_at": "2026-11-24T09:20:00Z",
        "due_at": "2026-11-24T09:35:00Z",
        "paused_minutes": 0,
        "elapsed_percent": 66.7,
        "state": "running",
        "breached_at": None,
        "stopped_at": None,
    }
    assert (resolution["kind"], resolution["target_minutes"], resolution["due_at"]) == (
        "resolution",
        120,
        "2026-11-24T11:20:00Z",
    )
    assert detail["escalation_level"] == 0 and detail["escalations"] == []

    ok(desk_url, "escalate", "--json", now="2026-11-24T09:40:00Z")
    detail = ok(desk_url, "ticket", "show", number, "--json", now="2026-11-24T09:40:00Z")
    assert detail["sla"][0]["state"] == "breached"
    assert detail["sla"][0]["breached_at"] == "2026-11-24T09:35:00Z"
    assert detail["escalation_level"] == 1
    levels = [(e["clock"], e["kind"], e["level"]) for e in detail["escalations"]]
    assert levels == [
        ("response", "warning", 50),
        ("response", "warning", 75),
        ("response", "breach", 0),
        ("response", "escalation", 1),
    ]
    assert detail["escalations"][-1]["actions"] == [
        "notify_supervisor",
        "reassign_escalation_team",
        "page_on_call",
    ]


def test_sla_breaching_lists_the_tickets_due_in_the_window_soonest_first(desk_url: str) -> None:
    """The Breaching soon view's definition: a ticket's nearest clock falls due after now
    and within the window; a ticket already overdue is breached, never listed here."""
    late = p1(desk_url, (NOW - timedelta(minutes=20)).isoformat())
    soon = p1(desk_url, (NOW - timedelta(minutes=5)).isoformat())
    later = p1(desk_url, (NOW - timedelta(minutes=1)).isoformat())
    rows = ok(desk_url, "sla", "breaching", "--within", "30m", "--json")
    assert [(r["number"], r["kind"], r["due_in_minutes"]) for r in rows] == [
        (soon, "response", 10.0),
        (later, "response", 14.0),
    ]
    # Wider: each ticket once, at its nearest clock; the overdue one still not.
    wide = ok(desk_url, "sla", "breaching", "--within", "2h", "--json")
    assert [(r["number"], r["kind"]) for r in wide] == [(soon, "response"), (later, "response")]
    assert late not in {r["number"] for r in wide}


def test_sla_breaching_refuses_a_duration_it_cannot_read(desk_url: str) -> None:
    result = run(desk_url, "sla", "breaching", "--within", "soon")
    assert result.exit_code == 2
    assert "'soon' is not a duration such as 30m, 2h or 1h30m" in result.stderr


@pytest.mark.slow
def test_escalator_daemon_escalates_a_breach_and_stops_cleanly_on_sigterm(tmp_path) -> None:
    """The installed `itsm escalator` as a real process: breach → escalation row → SIGTERM."""
    url = sqlite_url(tmp_path / "desk.db")
    ok(url, "init", now=None)
    # Opened three hours ago by the wall clock (the daemon sweeps on the wall clock too):
    # already past every threshold.
    opened = datetime.fromtimestamp(time.time() - 3 * 3600, UTC).isoformat()
    p1(url, opened, now=None)
    exe = shutil.which("itsm")
    assert exe, "the itsm console script is not installed"
    env = {**os.environ, "ITSM_DB": url, "ITSM_AGENT": ME}
    env.pop("ITSM_NOW", None)
    daemon = subprocess.Popen(
        [exe, "escalator", "--interval", "0.5"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    store = open_store(url)
    try:
        deadline = time.monotonic() + 60
        escalations = 0
        while time.monotonic() < deadline and daemon.poll() is None:
            with store.read() as session:
                escalations = session.scalar(select(func.count()).select_from(Escalation))
            if escalations:
                break
            time.sleep(0.2)
        assert escalations == 10, "the daemon did not escalate the breached ticket"
        daemon.send_signal(signal.SIGTERM)
        _out, err = daemon.communicate(timeout=30)
    finally:
        if daemon.poll() is None:
            daemon.kill()
        store.dispose()
    assert daemon.returncode == 0, err
    assert "breached 2, escalated 4" in err
    assert "escalator stopping (SIGTERM)" in err and "escalator stopped" in err
    assert "Traceback" not in err
    # The daemon's own lines only: it starts with its own, no library chatter (Alembic
    # printed seven lines of plugins and DDL mode before it).
    assert err.splitlines()[0].endswith("escalator started: sweeping sqlite every 0.5 s"), err
    assert "alembic" not in err and "apscheduler" not in err
    # Later sweeps found nothing new: still one row per event.
    with open_store(url).read() as session:
        assert session.scalar(select(func.count()).select_from(Escalation)) == 10
