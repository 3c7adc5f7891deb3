"""`itsm config` with [notifications] (validated, round-tripped, secrets kept out of the
store) and `itsm notify deliver|list|dead|retry` against a local webhook server."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import Result

from itsm_tui.data.store import Store
from itsm_tui.desk import create_ticket
from itsm_tui.desk.records import get_agent
from tests.cli.conftest import Itsm, assert_refused
from tests.cli.test_desk_file_round_trip import round_trip
from tests.factories import NOW, Desk
from tests.notify_servers import ChatServer

ROUTING = """
[notifications]
max_attempts = 1
timeout_seconds = 2

[notifications.smtp]
host = "smtp.example.org"
port = 587
security = "starttls"
username = "desk"
password = "env:ITSM_TEST_SMTP_PASSWORD"
sender = "IT Service Desk <desk@example.org>"

[[notifications.agents]]
username = "bob"
email = "bob@example.org"
webhook = "env:ITSM_TEST_BOB_HOOK"
quiet_hours = ["22:00", "07:00"]

[[notifications.teams]]
name = "Network"
dingtalk = "https://oapi.dingtalk.com/robot/send?access_token=abc"
dingtalk_secret = "env:ITSM_TEST_DINGTALK_SECRET"

[notifications.events]
assignment = { to = ["agent"], channels = ["webhook"] }
page = { to = ["agent", "team", "members"], channels = ["email", "dingtalk"] }
"""


def apply(itsm: Itsm, tmp_path: Path, text: str, name: str = "notify.toml") -> Result:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return itsm("config", "apply", str(path), agent="root")


def test_the_notifications_section_round_trips_and_keeps_secrets_out(
    desk: Desk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ITSM_TEST_SMTP_PASSWORD", "hunter2")
    itsm = Itsm(desk.store, agent="root")
    assert apply(itsm, tmp_path, ROUTING).exit_code == 0
    shown = round_trip(itsm, tmp_path)
    assert 'password = "env:ITSM_TEST_SMTP_PASSWORD"' in shown
    assert 'quiet_hours = ["22:00", "07:00"]' in shown
    assert "hunter2" not in shown
    # A change to the section is planned as a change of it.
    changed = ROUTING.replace("max_attempts = 1", "max_attempts = 5")
    (tmp_path / "changed.toml").write_text(changed, encoding="utf-8")
    dry = itsm.ok("config", "apply", str(tmp_path / "changed.toml"), "--dry-run").stdout
    assert "notifications" in dry and "max_attempts" in dry


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (('password = "env:ITSM_TEST_SMTP_PASSWORD"', 'password = "hunter2"'), "env:NAME"),
        (('channels = ["webhook"]', 'channels = ["pager"]'), "'pager' is not one of"),
        (('quiet_hours = ["22:00", "07:00"]', 'quiet_hours = ["22:00"]'), "quiet_hours"),
        (('username = "bob"', 'username = "nobody"'), "'nobody' is not defined"),
        (('email = "bob@example.org"', 'email = "bob"'), "is not an address"),
        (('dingtalk = "https:', 'dingtalk = "ftp:'), "http(s) URL"),
    ],
)
def test_a_bad_notifications_section_is_refused_with_its_line_and_changes_nothing(
    desk: Desk, tmp_path: Path, change: tuple[str, str], says: str
) -> None:
    itsm = Itsm(desk.store, agent="root")
    before = itsm.ok("config", "show").stdout
    text = ROUTING.replace(*change)
    assert text != ROUTING
    result = apply(itsm, tmp_path, text)
    assert result.exit_code != 0
    assert "notify.toml:" in result.stderr and says in result.stderr
    assert itsm.ok("config", "show").stdout == before


def test_email_routes_need_smtp(desk: Desk, tmp_path: Path) -> None:
    itsm = Itsm(desk.store, agent="root")
    start = ROUTING.index("[notifications.smtp]")
    end = ROUTING.index("[[notifications.agents]]")
    result = apply(itsm, tmp_path, ROUTING[:start] + ROUTING[end:])
    assert "[notifications.smtp] is missing" in result.stderr


def test_deliver_list_dead_and_retry(
    desk: Desk, store: Store, tmp_path: Path, chat: ChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ITSM_TEST_BOB_HOOK", chat.url("/webhook/bob"))
    itsm = Itsm(desk.store, agent="root")
    assert apply(itsm, tmp_path, ROUTING).exit_code == 0
    with store.write() as session:
        ticket = create_ticket(
            session,
            get_agent(session, "alice"),
            type="incident",
            title="VPN down",
            impact=2,
            urgency=2,
            team="Service Desk",
            assignee="bob",
            now=NOW,
        )
    chat.status["/webhook/bob"] = 503
    assert itsm.json("notify", "deliver", "--once") == {
        "sent": 0,
        "retried": 0,
        "dead": 1,
        "held": 0,
    }
    [dead] = itsm.json("notify", "dead")
    assert dead["to"] == "bob" and dead["channel"] == "webhook"
    assert dead["record"] == ticket.number and dead["attempts"] == 1
    assert dead["last_error"].startswith("503 ")
    assert dead["attempt_answers"] == [dead["last_error"]]
    assert_refused(itsm("notify", "retry", str(dead["id"]), agent="alice"), says="admin")
    assert "queued again" in itsm.ok("notify", "retry", str(dead["id"])).stdout
    assert_refused(itsm("notify", "retry", str(dead["id"])), says="not dead")
    del chat.status["/webhook/bob"]
    assert itsm.json("notify", "deliver", "--once")["sent"] == 1
    [sent] = itsm.json("notify", "list", "--state", "sent")
    assert sent["id"] == dead["id"]
    assert itsm.json("notify", "dead") == []
    [received] = [r.body for r in chat.received if r.path == "/webhook/bob"][-1:]
    assert received["number"] == ticket.number and received["title"] == "VPN down"
    assert received["open"] == f"itsm ticket show {ticket.number}"
