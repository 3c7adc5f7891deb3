"""The recurring-incident scan on both databases: clusters of a constructed set with known
answers, and its precision and recall on the labelled sample (tests/data)."""

from __future__ import annotations

import json
from datetime import timedelta
from itertools import combinations
from pathlib import Path
from typing import Any

from itsm_tui import desk as d
from itsm_tui.data.models import Service
from itsm_tui.data.recurring import find_recurring, similarity, words
from itsm_tui.desk import problems as p
from tests.factories import NOW

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "recurring_sample.json"
START = NOW - timedelta(days=120)
# What docs/problems.md states the scan reaches on the sample (pairs of incidents).
PRECISION = 1.0
RECALL = 0.75


def _add_services(desk: Any, *names: str) -> None:
    with desk.store.write() as s:
        for name in names:
            s.add(Service(name=name))


def _incident(desk: Any, title: str, service: str, hours: float, description: str = "") -> str:
    with desk.store.write() as s:
        return d.create_ticket(
            s,
            desk.actor(s, "alice"),
            type="incident",
            title=title,
            description=description,
            impact=3,
            urgency=3,
            service=service,
            opened_at=START + timedelta(hours=hours),
            now=NOW,
        ).number


def _scan(desk: Any, **kwargs: Any) -> list[Any]:
    with desk.store.read() as s:
        return find_recurring(s, since=START, until=NOW, **kwargs)


def test_words_drop_noise_and_pair_cjk() -> None:
    assert words("The VPN is down 42 times, disconnecting!") == {"vpn", "down", "tim", "disconnect"}
    assert words("报表导出") == {"报表", "表导", "导出"}
    same = words("Outlook cannot connect")
    assert similarity(same, same, frozenset(), frozenset()) == 1.0


def test_clusters_of_a_constructed_set(desk: Any) -> None:
    a = [_incident(desk, "VPN drops every hour", "VPN", h) for h in (0, 30, 60)]
    # The same fault more than the window later: a run of two, too few on its own.
    for h in (2000, 2010):
        _incident(desk, "VPN drops every hour", "VPN", h)
    # Same title, another service: its own cluster.
    b = [_incident(desk, "VPN drops every hour", "Email", h) for h in (5, 6, 7, 300)]
    # Two wordings of one fault, each under three on its own: one cluster of four.
    c = [
        _incident(desk, title, "VPN", h)
        for title, h in (
            ("Outlook cannot connect to server", 400),
            ("Outlook cannot connect to server", 402),
            ("Outlook cannot connect to the mail server", 440),
            ("Outlook cannot connect to the mail server", 442),
        )
    ]
    # Unrelated titles in the same service and time.
    for h, title in ((1, "Mailbox full"), (2, "Token refused"), (3, "Client will not install")):
        _incident(desk, title, "VPN", h)
    # A linked incident is no longer recurring.
    linked = _incident(desk, "VPN drops every hour", "VPN", 61)
    with desk.store.write() as s:
        p.create_problem(s, desk.actor(s, "alice"), incidents=[linked], now=NOW)
    found = _scan(desk, window=timedelta(days=14))
    assert [(c.service, c.incidents, c.size) for c in found] == [
        ("VPN", tuple(c), 4),
        ("Email", tuple(b), 4),
        ("VPN", tuple(a), 3),
    ]
    assert found[2].title == "VPN drops every hour"
    assert found[2].first_opened == START and found[2].last_opened == START + timedelta(hours=60)
    # The window decides: at 1 day the VPN reports (30 h apart) and the two wordings
    # (38 h apart) no longer join, and the Email run keeps its first three (5-7 h).
    assert [(c.service, c.size) for c in _scan(desk, window=timedelta(days=1))] == [("Email", 3)]
    assert [c.service for c in _scan(desk, service="email")] == ["Email"]
    assert [c.incidents for c in _scan(desk, incidents_each=2)][:2] == [tuple(c[2:]), tuple(b[2:])]
    assert _scan(desk, min_size=5) == []


def test_accuracy_on_the_labelled_sample(desk: Any) -> None:
    sample = json.loads(SAMPLE.read_text(encoding="utf-8"))
    _add_services(desk, "Printing", "ERP")
    label: dict[str, str | None] = {}
    for row in sample["incidents"]:
        number = _incident(desk, row["title"], row["service"], row["hours"], row["description"])
        label[number] = row["cluster"]
    found = _scan(desk, window=timedelta(days=sample["window_days"]))
    predicted = {pair for c in found for pair in combinations(sorted(c.incidents), 2)}
    truth = {
        pair
        for pair in combinations(sorted(label), 2)
        if label[pair[0]] is not None and label[pair[0]] == label[pair[1]]
    }
    hits = len(predicted & truth)
    precision = hits / len(predicted)
    recall = hits / len(truth)
    print(f"pairs: {len(truth)} true, {len(predicted)} found, {hits} right")
    print(f"precision {precision:.3f}, recall {recall:.3f}")
    for a, b in sorted(truth - predicted):
        print(f"missed: {label[a]}: {a} / {b}")
    assert precision >= PRECISION
    assert recall >= RECALL
