"""Green, amber or red: a KPI's value against its target, with the desk's amber margin.

Three directions, one rule each (docs/kpi.md):
- at_least (CSAT, tickets per agent per day, complaint reduction): green at or above
  the target, amber down to target × (1 − margin), red below;
- at_most (response, resolution, request cycle, cost): green at or below the target,
  amber up to target × (1 + margin), red above;
- share (availability, change success, SLA met: percentages whose target is near 100):
  the margin applies to what the target allows to fail, so 99.9 % with a 10 % margin is
  amber down to 99.89 %, not 89.9 %.
"""

from __future__ import annotations

from typing import Literal

Direction = Literal["at_least", "at_most", "share"]
GREEN = "green"
AMBER = "amber"
RED = "red"
# The period holds nothing to measure: no status, and never a made-up zero.
NO_DATA = "no data"
# A figure without a target (the operations panel): shown, not judged.
NO_TARGET = "no target"

DEFAULT_AMBER_MARGIN_PERCENT = 10.0


def judge(
    value: float | None, target: float | None, direction: Direction, margin_percent: float
) -> str:
    if value is None:
        return NO_DATA
    if target is None:
        return NO_TARGET
    margin = margin_percent / 100
    if direction == "at_least":
        return _band(target - value, 0.0, target * margin)
    if direction == "at_most":
        return _band(value - target, 0.0, target * margin)
    allowed = 100 - target
    return _band(100 - value, allowed, allowed * (1 + margin))


def _band(miss: float, green_up_to: float, amber_up_to: float) -> str:
    # Rounded to 9 places: 100 − 99.89 is 0.10999999999999943 in floats, and a value on
    # the line must fall on the side the person computing by hand puts it.
    miss, green_up_to, amber_up_to = (round(x, 9) for x in (miss, green_up_to, amber_up_to))
    if miss <= green_up_to:
        return GREEN
    return AMBER if miss <= amber_up_to else RED
