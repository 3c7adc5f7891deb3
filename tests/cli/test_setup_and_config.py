"""`itsm init`, `itsm config apply|show`, the console seam, and stores that cannot be used."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from itsm_tui.cli import cli
from itsm_tui.data.models import Agent, AuditEvent, DeskSetting, Service
from itsm_tui.data.store import Store
from itsm_tui.desk.setup import has_configuration, init_desk
from tests.cli.conftest import NOW_ISO, Itsm, assert_refused, snapshot
from tests.factories import NOW, Desk


def _config_rows(store: Store) -> dict[str, int]:
    with store.read() as s:
        return {
            "services": s.scalar(select(func.count()).select_from(Service)),
            "settings": s.scalar(select(func.count()).select_from(DeskSetting)),
            "agents": s.scalar(select(func.count()).select_from(Agent)),
            "audit": s.scalar(select(func.count()).select_from(AuditEvent)),
        }


def test_init_applies_the_default_desk_and_makes_you_its_admin(store: Store) -> None:
    itsm = Itsm(store, agent="wei")
    first = itsm.ok("init").stdout
    assert "Applied the default desk file" in first
    assert "Created agent wei as the desk's administrator." in first
    with store.read() as s:
        wei = s.scalars(select(Agent).where(Agent.username == "wei")).one()
        assert wei.roles == "admin"
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "agent.create")).one()
        assert (event.record_type, event.record_number, event.actor_id) == ("agent", "wei", wei.id)
        assert event.at == NOW
    # The admin can work at once: the default desk has services and teams.
    ticket = itsm.json(
        "ticket", "create", "--type", "incident", "--title", "Mail down", "--impact", "1",
        "--urgency", "1",
    )  # fmt: skip
    assert ticket["number"] == "INC0000001"


def test_init_twice_changes_nothing(store: Store) -> None:
    itsm = Itsm(store, agent="wei")
    itsm.ok("init")
    before = (snapshot(store), _config_rows(store))
    again = itsm.ok("init", agent="someone-else").stdout
    assert "already set up; nothing changed" in again
    assert (snapshot(store), _config_rows(store)) == before


def test_init_on_a_configured_desk_without_agents_only_adds_the_admin(store: Store) -> None:
    with store.write() as s:
        s.add(DeskSetting(key="desk", value={"name": "Lab"}))
    with store.write() as s:
        assert has_configuration(s)
        result = init_desk(s, os_user="ops", now=NOW)
    assert (result.applied_default, result.created_admin) == (False, "ops")
    assert _config_rows(store)["services"] == 0


def test_init_refuses_a_user_name_that_cannot_be_an_agent(store: Store) -> None:
    assert_refused(
        Itsm(store, agent="two words")("init"),
        says="the first agent's name 'two words' is not a user name",
    )
    with store.read() as s:
        assert not has_configuration(s)


def test_commands_on_a_store_without_a_desk_say_run_init(store: Store) -> None:
    itsm = Itsm(store)
    for argv in (["ticket", "list"], ["config", "show"], []):
        assert_refused(itsm(*argv), says="run itsm init first")


def test_no_command_prints_the_store_summary_and_exits_0(itsm: Itsm) -> None:
    itsm.ok("ticket", "create", "--type", "incident", "--title", "x", "--impact", "3",
            "--urgency", "3")  # fmt: skip
    shown = itsm.ok().stdout
    assert "1 ticket, 1 open; 0 changes" in shown
    assert "6 agents in 2 teams; 2 services" in shown
    assert "By status: new 1" in shown
    assert "Signed in as alice" in shown


# ---------------------------------------------------------------------------
# config

GOOD = """\
[desk]
name = "Lab desk"
timezone = "Europe/Berlin"

[[services]]
name = "Printing"
criticality = 3
"""

BAD = """\
[desk]
name = 5

[[services]]
nam = "Printing"
"""


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "desk.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_config_apply_dry_run_writes_nothing_then_apply_does(itsm: Itsm, tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD)
    before = _config_rows(itsm.store)
    dry = itsm.ok("config", "apply", path, "--dry-run", agent="root").stdout
    assert "+ Printing" in dry
    assert dry.rstrip().endswith("Dry run: nothing was written.")
    assert _config_rows(itsm.store) == before
    applied = itsm.ok("config", "apply", path, agent="root").stdout
    assert "+ Printing" in applied
    # A section in the file is the whole section: Email and VPN go, Printing comes.
    assert "- Email" in applied
    with itsm.store.read() as s:
        assert s.scalars(select(Service.name)).all() == ["Printing"]
    shown = itsm.ok("config", "show").stdout
    assert 'name = "Lab desk"' in shown and 'name = "Printing"' in shown
    assert "already matches" in itsm.ok("config", "apply", path, agent="root").stdout


def test_config_apply_prints_every_error_of_a_malformed_file(itsm: Itsm, tmp_path: Path) -> None:
    path = _write(tmp_path, BAD)
    before = (snapshot(itsm.store), _config_rows(itsm.store))
    result = itsm("config", "apply", path, agent="root")
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) >= 2
    assert lines[0] == "desk.toml:2: desk: name must be text, not an integer"
    assert any(line.startswith("desk.toml:5: ") for line in lines)
    assert (snapshot(itsm.store), _config_rows(itsm.store)) == before


def test_config_apply_needs_an_admin(itsm: Itsm, tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD)
    before = _config_rows(itsm.store)
    assert_refused(itsm("config", "apply", path), says="alice cannot configure the desk")
    assert _config_rows(itsm.store) == before


def test_config_apply_of_a_missing_file_is_a_usage_error(itsm_sqlite: Itsm) -> None:
    result = itsm_sqlite("config", "apply", "/nonexistent/desk.toml", agent="root")
    assert result.exit_code in (1, 2)
    assert "Traceback" not in result.stderr


# ---------------------------------------------------------------------------
# Stores that cannot be opened


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://nobody@127.0.0.1:1/nothing",
        "mysql://localhost/desk",
        "not a url at all",
    ],
    ids=["refused-connection", "unsupported", "malformed"],
)
def test_a_store_that_cannot_be_opened_is_one_line(url: str) -> None:
    result = CliRunner().invoke(cli, ["--db", url, "--as", "x", "ticket", "list"])
    assert_refused(result, says="cannot open the store")
    assert "Traceback" not in result.output


def test_a_sqlite_path_that_cannot_be_created_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    url = f"sqlite:///{blocker}/sub/desk.db"
    result = CliRunner().invoke(cli, ["--db", url, "--now", NOW_ISO, "init"])
    assert_refused(result, says="cannot open the store")


def test_itsm_db_and_itsm_agent_come_from_the_environment(desk: Desk) -> None:
    env = {"ITSM_DB": desk.store.url, "ITSM_AGENT": "bob", "ITSM_NOW": NOW_ISO}
    result = CliRunner().invoke(
        cli,
        ["ticket", "create", "--type", "incident", "--title", "x", "--impact", "3",
         "--urgency", "3", "--json"],
        env=env,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert '"opened_at": "2026-11-24T09:30:00Z"' in result.stdout
    shown = CliRunner().invoke(cli, ["ticket", "show", "INC0000001", "--json"], env=env)
    assert '"actor": "bob"' in shown.stdout


def test_a_naive_now_is_refused() -> None:
    result = CliRunner().invoke(cli, ["--now", "2026-11-24T09:30:00", "ticket", "list"])
    assert_refused(result, says="add one")
