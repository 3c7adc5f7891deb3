"""One page's whole journey (issue 14's demonstration), on both databases: a P1 breaches its
SLA, the sweep pages whoever is on call, the deliverer sends the page to a real local SMTP
server and a local webhook, and the link in the e-mail, opened against the running intake,
acknowledges it: audited, the chain stopped, nobody else paged."""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from itsm_tui.config.load import DeskFileError, load_desk_text
from itsm_tui.config.plan import apply_config
from itsm_tui.data.models import Agent, AuditEvent, OutboxAttempt
from itsm_tui.data.store import Store
from itsm_tui.notify.deliverer import Deliverer
from itsm_tui.remote.intake_server import IntakeTokens
from tests.notify_servers import (
    SMTP_PASSWORD,
    ChatServer,
    SmtpSink,
    chat_server,
    smtp_server,
)
from tests.remote.intake_client import Clock, RunningIntake
from tests.sla_desk import run_sweep
from tests.store.test_oncall_paging import BREACH, breached_p1, pages, rota_store

__all__ = ["rota_store"]  # the fixture, used by name


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpSink, int]]:
    yield from smtp_server()


@pytest.fixture
def chat() -> Iterator[ChatServer]:
    yield from chat_server()


def routing(smtp_port: int, webhook: str, ack_url: str) -> str:
    return f"""
[notifications]
open_url = "https://desk.example.org/t/{{number}}"
ack_url = "{ack_url}"

[notifications.smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
username = "desk"
password = "env:ITSM_TEST_SMTP_PASSWORD"
sender = "desk@example.org"

[[notifications.agents]]
username = "fay"
email = "fay@example.org"
webhook = "{webhook}"
quiet_hours = ["22:00", "07:00"]

[notifications.events]
page = {{ to = ["agent"], channels = ["email", "webhook"] }}
"""


def test_a_breach_pages_by_mail_and_webhook_and_the_mails_link_acknowledges_it(
    rota_store: Store,
    smtp: tuple[SmtpSink, int],
    chat: ChatServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ITSM_TEST_SMTP_PASSWORD", SMTP_PASSWORD)
    clock = Clock(BREACH + timedelta(minutes=3))
    intake = RunningIntake(rota_store, clock, IntakeTokens(env_token="t" * 20))
    try:
        text = routing(smtp[1], chat.url("/webhook/fay"), f"{intake.base}/ack/{{token}}")
        with rota_store.write() as session:
            apply_config(session, load_desk_text(text, "notify.toml"), now=BREACH)

        # 03:00 Shanghai: the P1 breaches, the sweep pages fay (on call this week).
        number = breached_p1(rota_store)
        assert pages(rota_store) == [("fay", 1, True, False)]

        # The deliverer sends it at once, through fay's quiet hours (a page wakes people).
        report = Deliverer(rota_store, lambda: BREACH + timedelta(minutes=1)).run_once()
        assert report.as_dict() == {"sent": 2, "retried": 0, "dead": 0, "held": 0}
        [(to, mail)] = smtp[0].mails
        assert to == ["fay@example.org"]
        assert mail["Subject"].startswith(f"[P1] {number} PAGE: ")
        body = mail.get_payload(decode=True).decode()
        assert "SLA: breached" in body
        assert f"Open: https://desk.example.org/t/{number}" in body
        [link] = re.findall(r"http://127\.0\.0\.1:\d+/ack/[A-Za-z0-9_-]+", body)
        [hook] = chat.received
        assert hook.path == "/webhook/fay"
        assert (hook.body["kind"], hook.body["number"], hook.body["sla"]) == (
            "page",
            number,
            "breached",
        )
        assert link in str(hook.body["message"])  # the same link, in the JSON too
        with rota_store.read() as session:
            answers = session.scalars(select(OutboxAttempt.answer).order_by(OutboxAttempt.id))
            assert [a.split()[0] for a in answers] == ["250", "200"]

        # fay opens the link (GET asks), then acknowledges (POST).
        with urllib.request.urlopen(link, timeout=30) as asked:
            assert asked.status == 200 and "Acknowledge this page?" in asked.read().decode()
        request = urllib.request.Request(link, data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=30) as answered:
            page = answered.read().decode()
        assert answered.status == 200 and f"Acknowledged: {number}" in page and "by fay" in page
    finally:
        intake.close()

    assert pages(rota_store) == [("fay", 1, False, True)]
    with rota_store.read() as session:
        audited = session.execute(
            select(AuditEvent.new_value, AuditEvent.reason, Agent.username, AuditEvent.at)
            .join(Agent, Agent.id == AuditEvent.actor_id)
            .where(AuditEvent.record_number == number, AuditEvent.action == "page_acknowledged")
        ).all()
    assert audited == [
        ("level 1 (fay)", "acknowledged from the link", "fay", BREACH + timedelta(minutes=3))
    ]
    # Acknowledged: its 15 minutes pass and the chain does not go on to the next (eve); the
    # only page after is the level-2 escalation's own (03:07:30), a new chain.
    later = run_sweep(rota_store, BREACH + timedelta(minutes=16)).paged
    assert [(p["agent"], p["level"]) for p in later] == [("fay", 1)]


@pytest.mark.parametrize("url", ["https://desk.example.org/ack", "ftp://desk.example.org/{token}"])
def test_an_ack_url_without_its_token_or_not_http_is_refused_with_its_line(url: str) -> None:
    with pytest.raises(DeskFileError, match=r"notify\.toml:3: .*ack_url must be an http\(s\) URL"):
        load_desk_text(f'[notifications]\n\nack_url = "{url}"\n', "notify.toml")
