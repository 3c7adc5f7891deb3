"""Agent roles and what each may do: the write path asks here, never the screens."""

from __future__ import annotations

import re

AGENT = "agent"
SUPERVISOR = "supervisor"
CHANGE_MANAGER = "change_manager"
CAB = "cab"
ADMIN = "admin"
ROLES = (AGENT, SUPERVISOR, CHANGE_MANAGER, CAB, ADMIN)
# An agent's user name, as the desk file writes it and `itsm --as` takes it.
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$")

# Permission → roles holding it. Admin holds every permission.
PERMISSIONS: dict[str, frozenset[str]] = {
    "ticket.work": frozenset({AGENT, SUPERVISOR, CHANGE_MANAGER, CAB, ADMIN}),
    "ticket.override_priority": frozenset({SUPERVISOR, ADMIN}),
    "ticket.assign_across_tiers": frozenset({SUPERVISOR, ADMIN}),
    "ticket.approve_request": frozenset({SUPERVISOR, ADMIN}),
    "ticket.import": frozenset({ADMIN}),
    "outage.record": frozenset({AGENT, SUPERVISOR, ADMIN}),
    "change.create": frozenset({AGENT, SUPERVISOR, CHANGE_MANAGER, ADMIN}),
    "change.approve": frozenset({CAB}),
    "change.manage": frozenset({CHANGE_MANAGER, ADMIN}),
    # Writing and voting on knowledge articles; publishing and retiring them is a review.
    "knowledge.write": frozenset({AGENT, SUPERVISOR, CHANGE_MANAGER, CAB, ADMIN}),
    "knowledge.publish": frozenset({SUPERVISOR, CHANGE_MANAGER, ADMIN}),
    "desk.configure": frozenset({ADMIN}),
    "desk.seed": frozenset({ADMIN}),
    # Acting as another agent (`itsm --as`); audited with both names.
    "agent.impersonate": frozenset({ADMIN}),
    # Adding or removing the SSH keys a remote session signs in with (`itsm agent key`).
    "agent.keys": frozenset({ADMIN}),
    # Sending a dead letter (a notification the deliverer gave up on) again.
    "outbox.retry": frozenset({ADMIN}),
}


def can(roles: frozenset[str] | set[str], permission: str) -> bool:
    # CAB approval is a vote: it is never implied by admin.
    if permission == "change.approve":
        return CAB in roles
    return ADMIN in roles or bool(PERMISSIONS[permission] & roles)


def roles_with(permission: str) -> tuple[str, ...]:
    holders = set(PERMISSIONS[permission])
    if permission != "change.approve":
        holders.add(ADMIN)
    return tuple(r for r in ROLES if r in holders)
