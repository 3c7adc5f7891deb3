"""`itsm catalog list|show|request` on both databases: what each prints and writes."""

from __future__ import annotations

from tests.cli.conftest import Itsm, assert_refused, snapshot


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
        "form": [{"name": "model", "label": "Model", "required": True, "kind": "text"}],
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
