"""Monitoring's payloads read into one shape, and the [intake] rules that triage them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from itsm_tui.config.intake import IntakeRule, IntakeSettings
from itsm_tui.domain.alerts import (
    AlertBatch,
    PayloadError,
    parse_instant,
    read_alertmanager,
    read_generic,
)

RECEIVED = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)


def webhook(**alert: object) -> bytes:
    base = {
        "status": "firing",
        "labels": {"alertname": "DiskFull", "instance": "db1:9100"},
        "annotations": {},
        "startsAt": "2026-12-02T05:58:01.123456789+08:00",
        "endsAt": "0001-01-01T00:00:00Z",
        "fingerprint": "c0ffee",
    }
    return json.dumps({"version": "4", "groupKey": "g", "alerts": [{**base, **alert}]}).encode()


def test_go_nanoseconds_and_offsets_read_as_utc_microseconds() -> None:
    at = parse_instant("2026-12-02T05:58:01.123456789+08:00", "t")
    assert at == datetime(2026, 12, 1, 21, 58, 1, 123456, tzinfo=UTC)


def test_firing_alert_has_no_end_and_a_title_from_name_and_instance() -> None:
    batch = read_alertmanager(webhook(), RECEIVED)
    [alert] = batch.alerts
    assert alert.ends_at is None and alert.status == "firing"
    assert alert.title == "DiskFull on db1:9100"
    assert batch.group_key == "g"


def test_resolved_alert_without_an_end_ends_when_received() -> None:
    [alert] = read_alertmanager(webhook(status="resolved"), RECEIVED).alerts
    assert alert.ends_at == RECEIVED


def test_kept_text_reads_back_the_same_batch() -> None:
    batch = read_alertmanager(webhook(annotations={"summary": "日志 \x1b[31m full"}), RECEIVED)
    assert AlertBatch.from_text(batch.source, batch.to_text()) == batch


@pytest.mark.parametrize(
    ("alert", "says"),
    [
        ({"startsAt": "2026-12-02T05:58:01"}, "has no UTC offset"),
        ({"startsAt": "1969-12-31T23:59:59Z"}, "before 1970"),
        ({"labels": None}, "alerts[0].labels must be an object"),
        ({"fingerprint": 7}, "alerts[0].fingerprint must be text"),
        ({"fingerprint": "x" * 201}, "the limit is 200"),
    ],
)
def test_bad_alerts_are_refused_with_where_and_why(alert: dict[str, object], says: str) -> None:
    with pytest.raises(PayloadError, match=None) as caught:
        read_alertmanager(webhook(**alert), RECEIVED)
    assert says in str(caught.value)


def test_lone_surrogates_and_nul_become_replacement_characters() -> None:
    body = b'{"alerts": [{"key": "k", "status": "firing", "summary": "a\\ud800b\\u0000c"}]}'
    [alert] = read_generic(body, RECEIVED).alerts
    assert alert.summary == "a\ufffdb\ufffdc"
    assert alert.starts_at == RECEIVED


def test_first_matching_rule_wins_and_defaults_fill_the_rest() -> None:
    settings = IntakeSettings(
        agent="monitoring",
        rules=(
            IntakeRule(match={"severity": ("critical",), "env": ("prod",)}, impact=1, urgency=1),
            IntakeRule(match={"severity": ("critical", "warning")}, urgency=1, team="Network"),
        ),
    )
    prod = {"severity": "critical", "env": "prod", "service": "Email"}
    assert settings.triage(prod) == (1, 1, "Email", None)
    assert settings.triage({"severity": "critical", "env": "test"}) == (2, 1, None, "Network")
    assert settings.triage({"severity": "info"}) == (2, 2, None, None)
