"""`itsm catalog list|show|request` on both databases: what each prints and writes."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from itsm_tui.data.models import Agent, CatalogueItem, Ticket
from itsm_tui.data.store import Store
from tests.cli.conftest import Itsm, assert_refused, snapshot
from tests.cli.test_desk_file_round_trip import round_trip


def test_list_shows_items_by_category_with_their_delivery_standard(itsm: Itsm) -> None:
    lines = itsm.ok("catalog", "list").stdout.splitlines()
    assert lines[0] == "hardware"
    assert lines[1].split() == ["laptop", "New", "laptop", "40", "h", "approval"]
    assert itsm.json("catalog", "list", "--search", "nothing-like-it") == []


def test_show_json_gives_the_form_and_the_standard(itsm: Itsm) -> None:
    item = itsm.json("catalog", "show", "LAPTOP")
    assert item == {
        "code": "laptop",
        "name": "New laptop",
        "description": "",
        "category": "hardware",
        "team": "Service Desk",
        "service": None,
        "requires_approval": True,
        "fulfilment_minutes": 2400,
        "delivery_standard": "40 h",
        "form": [{"name": "model", "label": "Model", "required": True, "kind": "text"}],
        "approval_role": None,
        "tasks": [],
    }
    text = itsm.ok("catalog", "show", "laptop").stdout
    assert "Delivery standard: 40 h" in text
    assert "model            Model * (text)" in text


def test_request_opens_a_service_request_titled_after_the_item(itsm: Itsm) -> None:
    ticket = itsm.json(
        "catalog", "request", "laptop", "--field", "model=X1 Carbon", "--requester",
        "wei@example.com",
    )  # fmt: skip
    assert (ticket["number"], ticket["type"], ticket["title"]) == (
        "REQ0000001",
        "request",
        "New laptop",
    )
    assert ticket["status"] == "awaiting_approval"
    assert ticket["form_data"] == {"model": "X1 Carbon"}
    assert ticket["requester"] == "wei@example.com"


def test_a_refused_request_is_one_line_naming_the_field_and_writes_nothing(itsm: Itsm) -> None:
    before = snapshot(itsm.store)
    assert_refused(itsm("catalog", "request", "laptop"), says="Model is required")
    assert_refused(
        itsm("catalog", "request", "laptop", "--field", "model=X1", "--field", "ram=16"),
        says="no field ram",
    )
    assert_refused(itsm("catalog", "request", "fax-machine"), says="unknown catalogue item")
    assert snapshot(itsm.store) == before


def _laptop_approved_by(itsm: Itsm, role: str | None) -> None:
    with itsm.store.write() as s:
        item = s.scalars(select(CatalogueItem).where(CatalogueItem.code == "laptop")).one()
        item.approval_role = role


def _approver(itsm: Itsm, number: str) -> str | None:
    with itsm.store.read() as s:
        return s.scalar(
            select(Agent.username)
            .join(Ticket, Ticket.approved_by_id == Agent.id)
            .where(Ticket.number == number)
        )


def test_a_request_is_approved_by_the_items_named_role_only(itsm: Itsm) -> None:
    _laptop_approved_by(itsm, "cab")
    itsm.ok("catalog", "request", "laptop", "--field", "model=X1")
    before = snapshot(itsm.store)
    for agent in ("sam", "root"):
        refused = assert_refused(
            itsm("ticket", "transition", "REQ0000001", "approved", agent=agent),
            says="laptop is approved by cab",
        )
        assert agent in refused
    assert snapshot(itsm.store) == before
    ticket = itsm.json("ticket", "transition", "REQ0000001", "approved", agent="carol")
    assert (ticket["status"], _approver(itsm, "REQ0000001")) == ("approved", "carol")


def test_without_a_named_role_a_supervisor_approves_as_before(itsm: Itsm) -> None:
    itsm.ok("catalog", "request", "laptop", "--field", "model=X1")
    assert_refused(itsm("ticket", "transition", "REQ0000001", "rejected", agent="carol"))
    ticket = itsm.json("ticket", "transition", "REQ0000001", "rejected", agent="sam")
    assert (ticket["status"], _approver(itsm, "REQ0000001")) == ("rejected", "sam")


ITEM_WITH_EVERY_KIND = """
[[catalogue_items]]
code = "workstation"
name = "Workstation"
category = "Hardware"
team = "Service Desk"
approval_role = "supervisor"
fulfilment_minutes = 960
[[catalogue_items.form]]
name = "monitors"
label = "Monitors"
kind = "number"
required = true
[[catalogue_items.form]]
name = "size"
label = "Size"
kind = "choice"
choices = ["Small", "Large"]
[[catalogue_items.form]]
name = "manager"
label = "Manager"
kind = "agent"
[[catalogue_items.form]]
name = "for_service"
label = "For service"
kind = "service"
[[catalogue_items.form]]
name = "needed_by"
label = "Needed by"
kind = "date"
"""


def test_an_item_with_a_role_and_every_kind_round_trips_through_the_desk_file(
    store: Store, tmp_path: Path
) -> None:
    itsm = Itsm(store, agent="root")
    itsm.ok("init")
    path = tmp_path / "desk.toml"
    path.write_text(itsm.ok("config", "show").stdout + ITEM_WITH_EVERY_KIND, encoding="utf-8")
    itsm.ok("config", "apply", str(path))
    shown = round_trip(itsm, tmp_path)
    assert 'approval_role = "supervisor"' in shown
    assert 'kind = "agent"' in shown and 'kind = "service"' in shown
    item = itsm.json("catalog", "show", "workstation")
    assert item["requires_approval"] is True
    assert [f["kind"] for f in item["form"]] == ["number", "choice", "agent", "service", "date"]


def test_an_unknown_approval_role_is_one_line_with_its_place(store: Store, tmp_path: Path) -> None:
    itsm = Itsm(store, agent="root")
    itsm.ok("init")
    path = tmp_path / "desk.toml"
    path.write_text(
        itsm.ok("config", "show").stdout
        + ITEM_WITH_EVERY_KIND.replace('"supervisor"', '"manager"'),
        encoding="utf-8",
    )
    result = itsm("config", "apply", str(path))
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert "catalogue item 'workstation': role 'manager' is not one of" in line
    # The place is the line of approval_role in the file.
    at = int(line.split(":")[1])
    assert path.read_text(encoding="utf-8").splitlines()[at - 1].startswith("approval_role")
    with store.read() as s:
        assert s.scalar(select(CatalogueItem).where(CatalogueItem.code == "workstation")) is None


def _plan(store: Store) -> None:
    with store.write() as s:
        item = s.scalars(select(CatalogueItem).where(CatalogueItem.code == "laptop")).one()
        item.requires_approval = False
        item.tasks = [
            {"name": "Image the laptop", "team": "Service Desk", "minutes": 90},
            {"name": "Register on the network", "team": "Network"},
        ]


def test_tasks_lists_the_steps_and_done_hands_on_to_the_next_team(itsm: Itsm) -> None:
    _plan(itsm.store)
    number = itsm.json("catalog", "request", "laptop", "--field", "model=X1")["number"]
    listed = itsm.json("catalog", "tasks", number)
    assert listed["promised_at"] == "2026-11-26T01:30:00+00:00"
    assert [(s["position"], s["team"], s["status"]) for s in listed["steps"]] == [
        (1, "Service Desk", "open"),
        (2, "Network", "waiting"),
    ]
    lines = itsm.ok("catalog", "tasks", number).stdout.splitlines()
    assert lines[0] == "1. open      Image the laptop — Service Desk ~1 h 30 min"
    after = itsm.json("catalog", "done", number, "--note", "imaged")
    assert after["status"] == "fulfilling"
    assert after["steps"][0]["note"] == "imaged" and after["steps"][0]["done_by"] == "alice"
    # The next step is Network's: alice is refused in one line, nothing written.
    before = snapshot(itsm.store)
    assert_refused(itsm("catalog", "done", number), says="belongs to Network")
    assert snapshot(itsm.store) == before
    last = itsm.json("catalog", "done", number, agent="nina")
    assert last["status"] == "fulfilled"
    assert [s["status"] for s in last["steps"]] == ["done", "done"]


def test_tasks_of_a_request_without_a_plan(itsm: Itsm) -> None:
    number = itsm.json("catalog", "request", "laptop", "--field", "model=X1")["number"]
    assert itsm.ok("catalog", "tasks", number).stdout == f"{number} has no fulfilment steps\n"
    assert_refused(itsm("catalog", "done", number), says="no open fulfilment step")
    assert_refused(itsm("catalog", "tasks", "REQ0099999"), says="no ticket REQ0099999")
