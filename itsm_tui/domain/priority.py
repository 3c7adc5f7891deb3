"""Priority from impact × urgency by the desk's matrix (P1–P4)."""

from __future__ import annotations

from collections.abc import Sequence

LEVELS = (1, 2, 3)  # impact and urgency: 1 high, 2 medium, 3 low
PRIORITIES = (1, 2, 3, 4)

# Rows are impact 1..3, columns urgency 1..3: the ITIL default.
DEFAULT_MATRIX: tuple[tuple[int, ...], ...] = (
    (1, 2, 3),
    (2, 3, 4),
    (3, 4, 4),
)


def priority_for(
    impact: int, urgency: int, matrix: Sequence[Sequence[int]] = DEFAULT_MATRIX
) -> int:
    return int(matrix[impact - 1][urgency - 1])


def priority_label(priority: int) -> str:
    return f"P{priority}"


def parse_priority(text: str | int) -> int:
    """'P2', 'p2' or 2 → 2; anything else raises ValueError."""
    raw = str(text).strip().upper().removeprefix("P")
    value = int(raw)
    if value not in PRIORITIES:
        raise ValueError(text)
    return value


def validate_matrix(matrix: object) -> str | None:
    """None when `matrix` is a 3×3 grid of priorities 1–4, else what is wrong with it."""
    if not isinstance(matrix, list | tuple) or len(matrix) != len(LEVELS):
        return "must be 3 rows (impact 1, 2, 3)"
    for i, row in enumerate(matrix, start=1):
        if not isinstance(row, list | tuple) or len(row) != len(LEVELS):
            return f"row {i} must have 3 priorities (urgency 1, 2, 3)"
        for value in row:
            if not isinstance(value, int) or isinstance(value, bool) or value not in PRIORITIES:
                return f"row {i}: {value!r} is not a priority 1–4"
    return None
