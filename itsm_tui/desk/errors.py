"""Errors of the write path, each with a message written for a person."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any


class DeskError(Exception):
    """A write the desk refused. `exit_code` is what the `itsm` command exits with."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidInput(DeskError):
    """A value that cannot be accepted (empty title, impact 9, unknown service…)."""


class NotFound(DeskError):
    """A record named by the user does not exist."""


class PermissionDenied(DeskError):
    """The acting agent's roles do not allow this write."""


class TransitionRefused(DeskError):
    """The state machine does not allow this move from the current status."""


class ScheduleConflict(InvalidInput):
    """A planned window clashes with freezes, other changes, the implementer's other work or
    maintenance windows; `conflicts` lists each (itsm_tui.data.change_schedule.Conflict).
    A change manager may schedule it anyway with a reason."""

    def __init__(self, message: str, conflicts: Sequence[Any]) -> None:
        super().__init__(message)
        self.conflicts = list(conflicts)


@dataclass(frozen=True)
class ChangeSince:
    """One field another agent changed after the version the writer had loaded."""

    version: int
    at: datetime
    actor: str
    field: str | None
    old: str | None
    new: str | None
    action: str


class Conflict(DeskError):
    """The record changed after the writer loaded it; nothing was written."""

    exit_code = 3

    def __init__(
        self, message: str, *, current_version: int, changes: tuple[ChangeSince, ...] = ()
    ) -> None:
        super().__init__(message)
        self.current_version = current_version
        self.changes = changes
