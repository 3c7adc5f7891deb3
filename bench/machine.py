"""What the machine was doing while a bench ran: figures from a shared machine need it."""

from __future__ import annotations

import os


def load_avg() -> float:
    """The 1-minute load average: how many processes wanted a core, besides the bench."""
    return round(os.getloadavg()[0], 2)
