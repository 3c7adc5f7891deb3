"""Notifications leave the app: outbox rows written with their cause, delivered to a real
local SMTP server and a local server playing Slack, DingTalk, WeCom, Feishu and a webhook;
retries with backoff, dead letters, quiet hours, two deliverers at once (both databases)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from itsm_tui.config.load import load_desk_text
from itsm_tui.config.plan import apply_config
from itsm_tui.data.models import Agent, OutboxAttempt, OutboxMessage
from itsm_tui.data.outbox_lists import attempts_of, outbox_page
from itsm_tui.data.store import Store
from itsm_tui.desk import InvalidInput, PermissionDenied, create_ticket
from itsm_tui.desk.dead_letters import retry_dead_letter
from itsm_tui.desk.records import get_agent
from itsm_tui.notify.channels import Answer
from itsm_tui.notify.deliverer import LEASE, Deliverer
from tests.conftest import BACKENDS
from tests.notify_servers import (
    DINGTALK_SECRET,
    FEISHU_SECRET,
    SMTP_PASSWORD,
    ChatServer,
    SmtpSink,
)
from tests.sla_desk import build_sla_desk, desk_store, local, run_sweep

TUE_1000 = local(2026, 11, 24, 10, 0)


@pytest.fixture(params=BACKENDS)
def notify_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    yield from desk_store(request, tmp_path)


ALL_CHANNELS = ("email", "slack", "dingtalk", "wecom", "feishu", "webhook")


def routing(
    smtp_port: int,
    *,
    max_attempts: int = 3,
    timeout: int = 2,
    page_to: tuple[str, ...] = ("agent", "team"),
    page_channels: tuple[str, ...] = ALL_CHANNELS,
) -> str:
    return f"""
[notifications]
max_attempts = {max_attempts}
retry_seconds = 60
timeout_seconds = {timeout}
open_url = "https://desk.example.org/t/{{number}}"

[notifications.smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
username = "desk"
password = "env:ITSM_TEST_SMTP_PASSWORD"
sender = "desk@example.org"

[[notifications.agents]]
username = "tia"
email = "tia@example.org"
quiet_hours = ["22:00", "07:00"]

[[notifications.agents]]
username = "dan"
email = "dan@example.org"
slack = "env:ITSM_TEST_SLACK_DAN"
quiet_hours = ["23:00", "08:00"]

[[notifications.teams]]
name = "Desktop Support"
dingtalk = "env:ITSM_TEST_DINGTALK"
dingtalk_secret = "env:ITSM_TEST_DINGTALK_SECRET"
wecom = "env:ITSM_TEST_WECOM"
feishu = "env:ITSM_TEST_FEISHU"
feishu_secret = "env:ITSM_TEST_FEISHU_SECRET"
webhook = "env:ITSM_TEST_WEBHOOK"

[notifications.events]
assignment = {{ to = ["agent"], channels = ["email"] }}

[notifications.events.page]
to = {json.dumps(list(page_to))}
channels = {json.dumps(list(page_channels))}
"""


@pytest.fixture
def routed(
    notify_store: Store,
    smtp: tuple[SmtpSink, int],
    chat: ChatServer,
    monkeypatch: pytest.MonkeyPatch,
) -> Store:
    """The SLA desk with [notifications] applied; secrets and URLs in the environment."""
    env = {
        "ITSM_TEST_SMTP_PASSWORD": SMTP_PASSWORD,
        "ITSM_TEST_SLACK_DAN": chat.url("/slack/dan"),
        "ITSM_TEST_DINGTALK": chat.url("/dingtalk/robot/send?access_token=abc"),
        "ITSM_TEST_DINGTALK_SECRET": DINGTALK_SECRET,
        "ITSM_TEST_WECOM": chat.url("/wecom/send"),
        "ITSM_TEST_FEISHU": chat.url("/feishu/hook"),
        "ITSM_TEST_FEISHU_SECRET": FEISHU_SECRET,
        "ITSM_TEST_WEBHOOK": chat.url("/webhook"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    apply_routing(notify_store, routing(smtp[1]))
    return notify_store


def apply_routing(store: Store, text: str) -> None:
    with store.write() as session:
        apply_config(session, load_desk_text(text, "notify.toml"), now=TUE_1000)


def assign_to_tia(store: Store, at: datetime, title: str = "Mail is down") -> tuple[str, int]:
    """sue opens a P3 incident held by tia (tia is told); its number and outbox rows."""
    with store.write() as session:
        ticket = create_ticket(
            session,
            get_agent(session, "sue"),
            type="incident",
            title=title,
            impact=2,
            urgency=2,
            assignee="tia",
            now=at,
        )
        # Written in the same transaction as the ticket and its notice.
        rows = session.scalar(select(func.count()).select_from(OutboxMessage))
        return ticket.number, rows or 0


def states(store: Store) -> list[tuple[str, str | None, str, int]]:
    with store.read() as session:
        rows = session.execute(
            select(
                OutboxMessage.channel,
                OutboxMessage.recipient,
                OutboxMessage.state,
                OutboxMessage.attempts,
            ).order_by(OutboxMessage.id)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_assignment_is_mailed_through_the_local_smtp_server(
    routed: Store, smtp: tuple[SmtpSink, int]
) -> None:
    number, outbox_rows = assign_to_tia(routed, TUE_1000, title="Mail <b>down</b>\x1b[31m")
    assert outbox_rows == 1
    report = Deliverer(routed, lambda: TUE_1000 + timedelta(minutes=1)).run_once()
    assert report.as_dict() == {"sent": 1, "retried": 0, "dead": 0, "held": 0}
    sink = smtp[0]
    assert sink.logins == ["desk"]
    [(to, mail)] = sink.mails
    assert to == ["tia@example.org"]
    assert mail["Subject"].startswith(f"[P3] {number} Assigned: Mail <b>down</b>")
    body = mail.get_payload(decode=True).decode()
    assert f"{number} · P3 · " in body
    assert "SLA: running, due in" in body
    assert f"Open: https://desk.example.org/t/{number}" in body
    # The escape byte never reaches the mail; the title's text does.
    assert "\x1b" not in body and "\x1b" not in mail["Subject"]
    assert states(routed) == [("email", "tia", "sent", 1)]
    with routed.read() as session:
        [attempt] = attempts_of(session, 1)
    assert attempt.ok and attempt.answer.startswith("250 ")
    # Delivered once: a second run finds nothing due.
    assert Deliverer(routed, lambda: TUE_1000 + timedelta(minutes=2)).run_once().sent == 0
    assert len(sink.mails) == 1


def test_a_page_from_the_sweep_reaches_every_channel_and_wakes_through_quiet_hours(
    routed: Store, smtp: tuple[SmtpSink, int], chat: ChatServer
) -> None:
    # A P1 at night on the 24x7 calendar: its response target breaches at 03:00 Shanghai,
    # inside tia's and dan's quiet hours; level 1 moves it to Desktop Support and pages
    # that team and its supervisor dan.
    opened = local(2026, 11, 24, 2, 45)
    with routed.write() as session:
        create_ticket(
            session,
            get_agent(session, "sue"),
            type="incident",
            title="Core switch down",
            impact=1,
            urgency=1,
            assignee="tia",
            now=opened,
        )
    three_am = local(2026, 11, 24, 3, 0)
    run_sweep(routed, three_am)
    report = Deliverer(routed, lambda: three_am).run_once()
    # Held: the assignment mail to tia (quiet hours). Sent: the pages, dan's included.
    assert report.held == 1
    assert report.dead == 0 and report.retried == 0
    mails = sorted((to[0], m["Subject"].split(" ")[2]) for to, m in smtp[0].mails)
    assert mails == [("dan@example.org", "PAGE:")]
    assert sorted(chat.paths()) == [
        "/dingtalk/robot/send",
        "/feishu/hook",
        "/slack/dan",
        "/webhook",
        "/wecom/send",
    ]
    [webhook] = [r.body for r in chat.received if r.path == "/webhook"]
    assert webhook["kind"] == "page" and webhook["priority"] == "P1"
    assert webhook["sla"] == "breached"
    # The held assignment goes out when tia's quiet hours end, 07:00 Shanghai.
    with routed.read() as session:
        held = session.scalars(select(OutboxMessage).where(OutboxMessage.state == "pending")).one()
        assert held.due_at == local(2026, 11, 24, 7, 0)
        assert session.scalar(select(func.count()).select_from(OutboxAttempt)) == 6
    assert Deliverer(routed, lambda: local(2026, 11, 24, 6, 59)).run_once().sent == 0
    assert Deliverer(routed, lambda: local(2026, 11, 24, 7, 0)).run_once().sent == 1


def test_a_dingtalk_errcode_answer_is_a_failure_retried_with_backoff_then_a_dead_letter(
    routed: Store, chat: ChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A wrong signing secret: DingTalk answers HTTP 200 with errcode 310000.
    monkeypatch.setenv("ITSM_TEST_DINGTALK_SECRET", "SECwrong")
    apply_routing(
        routed,
        routing(1, page_to=("team",), page_channels=("dingtalk",)),
    )
    opened = local(2026, 11, 24, 2, 45)
    with routed.write() as session:
        create_ticket(
            session,
            get_agent(session, "sue"),
            type="incident",
            title="Core switch down",
            impact=1,
            urgency=1,
            now=opened,
        )
    now = local(2026, 11, 24, 3, 0)
    run_sweep(routed, now)
    assert [s[0] for s in states(routed)] == ["dingtalk"]
    waits = []
    for attempt in (1, 2, 3):
        report = Deliverer(routed, lambda now=now: now).run_once()
        with routed.read() as session:
            row = session.scalars(select(OutboxMessage)).one()
        assert row.attempts == attempt
        assert "310000" in (row.last_error or "")
        if attempt < 3:
            assert report.retried == 1 and row.state == "pending"
            waits.append(row.due_at - now)
            # Not due before its backoff has passed.
            assert (
                Deliverer(routed, lambda row=row: row.due_at - timedelta(seconds=1))
                .run_once()
                .retried
                == 0
            )
            now = row.due_at
        else:
            assert report.dead == 1 and row.state == "dead"
    assert waits == [timedelta(seconds=60), timedelta(seconds=120)]
    with routed.read() as session:
        [dead] = outbox_page(session, state="dead")
        assert [a.ok for a in attempts_of(session, dead.id)] == [False, False, False]
    # Only an admin sends a dead letter again; it then goes out once the secret is right.
    with routed.write() as session, pytest.raises(PermissionDenied):
        retry_dead_letter(session, get_agent(session, "tia"), dead.id, now)
    with routed.write() as session:
        admin = Agent(username="ada", display_name="Ada Admin", roles="admin")
        session.add(admin)
        session.flush()
        retry_dead_letter(session, admin, dead.id, now)
        # A second retry of the same letter is refused: it is pending now.
        with pytest.raises(InvalidInput):
            retry_dead_letter(session, admin, dead.id, now)
    monkeypatch.setenv("ITSM_TEST_DINGTALK_SECRET", DINGTALK_SECRET)
    assert Deliverer(routed, lambda: now).run_once().sent == 1
    assert states(routed) == [("dingtalk", None, "sent", 1)]


def test_failures_timeouts_and_slow_answers_are_recorded_and_retried(
    routed: Store, chat: ChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    apply_routing(
        routed,
        routing(1, timeout=1, page_channels=("slack", "wecom", "feishu", "webhook")),
    )
    chat.status["/webhook"] = 500  # a failing service
    chat.delay["/slack/dan"] = 3  # slower than timeout_seconds = 1
    monkeypatch.setenv("ITSM_TEST_WECOM", chat.url("/wecom/muted"))  # errcode 93000
    chat.delay["/feishu/hook"] = 0.3  # slow, within the timeout: sent
    opened = local(2026, 11, 24, 2, 45)
    with routed.write() as session:
        create_ticket(
            session,
            get_agent(session, "sue"),
            type="incident",
            title="Core switch down",
            impact=1,
            urgency=1,
            now=opened,
        )
    now = local(2026, 11, 24, 3, 0)
    run_sweep(routed, now)
    report = Deliverer(routed, lambda now=now: now).run_once()
    assert report.sent == 1 and report.retried == 3
    with routed.read() as session:
        errors = dict(
            session.execute(
                select(OutboxMessage.channel, OutboxMessage.last_error).where(
                    OutboxMessage.state == "pending"
                )
            ).all()
        )
    assert errors["webhook"].startswith("500 ")
    assert "timed out" in errors["slack"]
    assert "93000" in errors["wecom"]
    # Slack answers a removed webhook with a 4xx and its reason: a failure, not "sent".
    del chat.delay["/slack/dan"]
    chat.status["/slack/dan"] = 404
    Deliverer(routed, lambda: now + timedelta(seconds=60)).run_once()
    with routed.read() as session:
        slack = session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "slack")).one()
    assert (slack.state, slack.attempts) == ("pending", 2)
    assert (slack.last_error or "").startswith("404 ")


def test_two_deliverers_at_once_send_each_message_once(
    routed: Store, smtp: tuple[SmtpSink, int]
) -> None:
    count = 30
    for i in range(count):
        assign_to_tia(routed, TUE_1000 + timedelta(seconds=i), title=f"Ticket {i}")
    clock = lambda: TUE_1000 + timedelta(minutes=5)  # noqa: E731
    deliverers = [Deliverer(routed, clock, name=f"d{i}", batch=4) for i in range(2)]
    reports = []
    start = threading.Barrier(2)

    def run(d: Deliverer) -> None:
        start.wait()
        reports.append(d.run_once())

    threads = [threading.Thread(target=run, args=(d,)) for d in deliverers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    subjects = [m["Subject"] for _to, m in smtp[0].mails]
    assert len(subjects) == count
    assert len(set(subjects)) == count
    assert sum(r.sent for r in reports) == count
    with routed.read() as session:
        by = dict(
            session.execute(
                select(OutboxAttempt.deliverer, func.count()).group_by(OutboxAttempt.deliverer)
            ).all()
        )
    assert sum(by.values()) == count


def test_a_claim_whose_deliverer_died_is_taken_over_after_its_lease_and_recorded_once(
    routed: Store, smtp: tuple[SmtpSink, int]
) -> None:
    assign_to_tia(routed, TUE_1000)
    later = TUE_1000 + timedelta(minutes=1)
    stuck = Deliverer(routed, lambda: later, name="stuck")
    [claimed] = stuck.claim(later)
    # Within the lease nobody else takes it.
    assert Deliverer(routed, lambda: later + LEASE - timedelta(seconds=1)).run_once().sent == 0
    after = later + LEASE + timedelta(seconds=1)
    assert Deliverer(routed, lambda: after, name="rescuer").run_once().sent == 1
    # The stuck deliverer's late answer no longer counts: its claim is gone.
    stuck._finish(claimed, after, Answer(False, "late"), state="pending", attempts=1)
    assert states(routed) == [("email", "tia", "sent", 1)]
    with routed.read() as session:
        assert [(a.deliverer, a.ok) for a in attempts_of(session, claimed)] == [("rescuer", True)]
    assert len(smtp[0].mails) == 1


def test_a_team_page_reaches_each_active_member_on_their_own_channels(
    routed: Store, smtp: tuple[SmtpSink, int], chat: ChatServer
) -> None:
    apply_routing(routed, routing(smtp[1], page_to=("members",), page_channels=("email",)))
    with routed.write() as session:
        create_ticket(
            session,
            get_agent(session, "sue"),
            type="incident",
            title="Core switch down",
            impact=1,
            urgency=1,
            now=local(2026, 11, 24, 2, 45),
        )
    three_am = local(2026, 11, 24, 3, 0)
    run_sweep(routed, three_am)
    Deliverer(routed, lambda: three_am).run_once()
    # The page to Desktop Support reaches dan as a member (eve has no address); dan's own
    # page is addressed to him, not to the team, and "agent" is not routed here.
    assert [to for to, _m in smtp[0].mails] == [["dan@example.org"]]
    assert chat.received == []
    with routed.write() as session:
        get_agent(session, "dan").active = False
    run_sweep(routed, local(2026, 11, 24, 4, 0))
    Deliverer(routed, lambda: local(2026, 11, 24, 4, 0)).run_once()
    assert len(smtp[0].mails) == 1


def test_the_rotas_page_to_whoever_is_on_call_goes_out_like_any_notice(
    store: Store, chat: ChatServer
) -> None:
    from tests.store.test_oncall_paging import BREACH, breached_p1, rota_desk

    build_sla_desk(store, rota_desk())
    apply_routing(
        store,
        f"""
[notifications]
[[notifications.agents]]
username = "fay"
webhook = "{chat.url("/webhook/fay")}"

[notifications.events]
page = {{ to = ["agent"], channels = ["webhook"] }}
""",
    )
    number = breached_p1(store)  # the rota pages fay, on call this week
    assert Deliverer(store, lambda: BREACH).run_once().sent == 1
    [received] = chat.received
    assert received.path == "/webhook/fay"
    assert received.body["kind"] == "page" and received.body["number"] == number
    # The page's own acknowledgement link travels in the message.
    assert "/ack/" in received.body["message"]
