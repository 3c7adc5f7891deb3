"""Time in a seed: integer seconds from the first midnight of the span (cheap to add and
compare per row), turned into text as SQLAlchemy stores it only when a row is written."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

DAY = 86_400
HOUR = 3_600
MINUTE = 60


class Timeline:
    def __init__(self, now: datetime, days: int, horizon_days: int = 400) -> None:
        naive = now.astimezone(UTC).replace(tzinfo=None)
        first = (naive - timedelta(days=days)).date()
        self.base = datetime(first.year, first.month, first.day)
        self.now = int((naive - self.base).total_seconds())
        self.start = self.now - days * DAY
        n_days = self.now // DAY + horizon_days + 2
        # Converting an int to text is two lookups and a concatenation: cheap per row.
        self.day_text = [
            (self.base + timedelta(days=d)).strftime("%Y-%m-%d ") for d in range(n_days)
        ]
        self.sec_text = [
            f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.000000" for s in range(DAY)
        ]

    def text(self, t: int) -> str:
        return self.day_text[t // DAY] + self.sec_text[t % DAY]

    def date_of(self, t: int) -> date:
        return (self.base + timedelta(seconds=t)).date()
