"""A catalogue request's form on both databases: every field kind, required fields, and a bad
answer refused with its field named and nothing written."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from itsm_tui import desk as d
from itsm_tui.data.catalogue import catalogue_entries
from itsm_tui.data.models import AuditEvent, CatalogueItem, Ticket
from itsm_tui.desk.catalogue_forms import FormFieldRefused
from tests.factories import NOW, Desk

EVERY_KIND = [
    {"name": "reason", "label": "Reason", "kind": "text", "required": True},
    {"name": "notes", "label": "Notes", "kind": "textarea"},
    {"name": "monitors", "label": "Monitors", "kind": "number", "required": True},
    {"name": "needed_by", "label": "Needed by", "kind": "date"},
    {"name": "size", "label": "Size", "kind": "choice", "choices": ["Small", "Large"]},
    {"name": "docking", "label": "Docking station", "kind": "checkbox"},
    {"name": "manager", "label": "Manager", "kind": "agent"},
    {"name": "for_service", "label": "For service", "kind": "service"},
]


@pytest.fixture
def workstation(desk: Desk) -> Desk:
    with desk.store.write() as s:
        s.add(
            CatalogueItem(
                code="workstation",
                name="Workstation",
                description="A desk with screens",
                category="hardware",
                fulfilment_minutes=960,
                form=EVERY_KIND,
            )
        )
    return desk


def request(desk: Desk, answers: dict[str, Any]) -> str:
    with desk.store.write() as s:
        return d.create_ticket(
            s,
            desk.actor(s, "alice"),
            type="request",
            title="Workstation for Wei",
            impact=3,
            urgency=3,
            catalogue_item="workstation",
            form_data=answers,
            now=NOW,
        ).number


def stored_answers(desk: Desk, number: str) -> Any:
    with desk.store.read() as s:
        return s.scalar(select(Ticket.form_data).where(Ticket.number == number))


def written(desk: Desk) -> tuple[int, int]:
    with desk.store.read() as s:
        return (
            s.scalar(select(func.count()).select_from(Ticket)),
            s.scalar(select(func.count()).select_from(AuditEvent)),
        )


def test_every_field_kind_is_stored_as_its_type(workstation: Desk) -> None:
    number = request(
        workstation,
        {
            "reason": "  New starter  ",
            "notes": "Two screens\nnear the window",
            "monitors": "2",
            "needed_by": "2026-12-24",
            "size": "large",
            "docking": "yes",
            "manager": "SAM",
            "for_service": "email",
        },
    )
    assert stored_answers(workstation, number) == {
        "reason": "New starter",
        "notes": "Two screens\nnear the window",
        "monitors": 2,
        "needed_by": "2026-12-24",
        "size": "Large",
        "docking": True,
        "manager": "sam",
        "for_service": "Email",
    }


def test_optional_fields_may_stay_blank_and_a_fraction_stays_a_fraction(
    workstation: Desk,
) -> None:
    number = request(workstation, {"reason": "Spare", "monitors": "1.5", "size": " "})
    assert stored_answers(workstation, number) == {
        "reason": "Spare",
        "monitors": 1.5,
        "docking": False,
    }


@pytest.mark.parametrize(
    ("answers", "field", "says"),
    [
        ({"monitors": "2"}, "reason", "Reason is required"),
        ({"reason": "x"}, "monitors", "Monitors is required"),
        ({"reason": "x", "monitors": "two"}, "monitors", "Monitors: 'two' is not a number"),
        ({"reason": "x", "monitors": "nan"}, "monitors", "is not a number"),
        ({"reason": "x", "monitors": "1", "needed_by": "24/12/2026"}, "needed_by", "2026-12-24"),
        ({"reason": "x", "monitors": "1", "size": "Huge"}, "size", "one of: Small, Large"),
        ({"reason": "x", "monitors": "1", "docking": "maybe"}, "docking", "not yes or no"),
        ({"reason": "x", "monitors": "1", "manager": "nobody"}, "manager", "Manager: no agent"),
        ({"reason": "x", "monitors": "1", "for_service": "Fax"}, "for_service", "For service:"),
        ({"reason": "x", "monitors": "1", "colour": "red"}, "colour", "no field colour"),
        ({"reason": "x\x00", "monitors": "1"}, "reason", "NUL"),
    ],
)
def test_a_bad_answer_names_its_field_and_writes_nothing(
    workstation: Desk, answers: dict[str, Any], field: str, says: str
) -> None:
    before = written(workstation)
    with pytest.raises(FormFieldRefused) as refused:
        request(workstation, answers)
    assert refused.value.field == field
    assert says in refused.value.message
    assert written(workstation) == before


def test_the_catalogue_lists_active_items_by_category_and_searches(workstation: Desk) -> None:
    with workstation.store.write() as s:
        s.add(CatalogueItem(code="old-phone", name="Desk phone", category="a-old", active=False))
        s.add(CatalogueItem(code="vpn-access", name="VPN access", category="access", form=[]))
    with workstation.store.read() as s:
        assert [e.code for e in catalogue_entries(s)] == ["vpn-access", "laptop", "workstation"]
        assert [e.code for e in catalogue_entries(s, search="SCREENS")] == ["workstation"]
        assert [e.code for e in catalogue_entries(s, search="100%")] == []
        assert [e.code for e in catalogue_entries(s, category="Hardware")] == [
            "laptop",
            "workstation",
        ]
        laptop = catalogue_entries(s, search="laptop")[0]
    assert (laptop.team, laptop.requires_approval, laptop.fulfilment_minutes) == (
        "Service Desk",
        True,
        2400,
    )
