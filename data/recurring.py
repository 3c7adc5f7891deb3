"""Recurring incidents: clusters of similar incidents of one service, close in time, that
no problem holds yet — each one a problem the desk should open (docs/problems.md).

SQL narrows: from the index of unlinked incidents alone it folds each service's
incidents of one title into runs ("islands": consecutive ones no further apart than the
window), so Python sees one row per run, not per incident. Python compares titles, and
reads descriptions only for titles similar enough that the description decides.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import combinations, combinations_with_replacement, pairwise
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from itsm_tui.data.models import UNLINKED_INCIDENT, Service, Ticket, UtcDateTime

# Title words weigh more than description words: a title is what the caller said first,
# a description carries the details that differ between two reports of one fault.
TITLE_WEIGHT = 0.7
DESCRIPTION_WEIGHT = 1 - TITLE_WEIGHT
THRESHOLD = 0.3
# Below this title Jaccard two incidents are different faults whatever their descriptions
# say: descriptions share the desk's stock phrases ("started this morning after a restart").
TITLE_MIN = 0.25
WINDOW = timedelta(days=14)
MIN_SIZE = 3
# Only the start of a description is compared: enough for the symptom, not the logs.
DESCRIPTION_CHARS = 600

# Words that say nothing about the fault.
_STOP_WORDS = """a an and are as at be but by can cannot could did do does doesn for from has have
    i in into is it its me my no not of on or our please since so that the their them then
    there this to too up us was we were when why will with won would you your"""
STOP_WORDS = frozenset(_STOP_WORDS.split())
_WORD = re.compile(r"\w+")


def _is_cjk(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F") and ch.isalpha()


# Crude English stemming: "disconnects", "disconnected", "disconnecting" are one word.
_SUFFIXES = ("ing", "ed", "es", "s")


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


# Titles and descriptions repeat (one fault reported many times): their words are
# remembered.
@lru_cache(maxsize=65_536)
def words(text: str) -> frozenset[str]:
    """The comparable words of a text: lower case, stemmed, no stop words, no bare numbers,
    and runs of CJK characters (written without spaces) as their character pairs."""
    found: set[str] = set()
    for token in _WORD.findall(text.casefold()):
        if token.isdigit() or token in STOP_WORDS:
            continue
        if any(_is_cjk(ch) for ch in token):
            run = [ch for ch in token if _is_cjk(ch)]
            found.update(a + b for a, b in pairwise(run))
            if len(run) == 1:
                found.add(run[0])
            rest = "".join(ch if not _is_cjk(ch) else " " for ch in token).split()
            found.update(r for r in rest if not r.isdigit() and len(r) > 1)
        elif len(token) > 1:
            found.add(_stem(token))
    return frozenset(found)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 0.0
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared)


def similarity(
    title_a: frozenset[str],
    title_b: frozenset[str],
    description_a: frozenset[str],
    description_b: frozenset[str],
) -> float:
    """0.7 × title Jaccard + 0.3 × description Jaccard; the title alone when either
    description has no words; 0 when the titles share less than TITLE_MIN."""
    title = jaccard(title_a, title_b)
    if title < TITLE_MIN:
        return 0.0
    if not description_a or not description_b:
        return title
    return TITLE_WEIGHT * title + DESCRIPTION_WEIGHT * jaccard(description_a, description_b)


@dataclass(frozen=True)
class RecurringCluster:
    """Similar incidents of one service: a proposed problem."""

    service: str
    incidents: tuple[str, ...]  # the most recent ones' numbers, oldest first
    size: int  # how many incidents the cluster holds
    first_opened: datetime
    last_opened: datetime
    title: str  # the commonest title among them


class _Components:
    """Union-find over incident positions."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


@dataclass
class _Island:
    """A service's unlinked incidents of one title, each within the window of the last."""

    title: str
    first: datetime
    last: datetime
    count: int
    description: str = ""  # when runs are split by description too


# PostgreSQL: a day's unlinked incidents of one title, counted by the database.
_DAYS_POSTGRESQL = f"""
SELECT service_id, title, {{text}} AS text, date_trunc('day', opened_at) AS day, count(*),
       min(opened_at), max(opened_at)
FROM tickets
WHERE {UNLINKED_INCIDENT} AND service_id {{service}} {{titles}}
  AND opened_at >= :since AND opened_at < :until
GROUP BY service_id, title, text, day
"""


# SQLite: each service's title (with `titles`, title and description) with its incidents'
# opening times joined into one string. Grouping by title alone follows the index, where
# grouping by title and day sorts every row in a temporary B-tree (2.7 s against 1.6 s
# for a year of the million-ticket store); Python then walks the times once, and turns
# only the runs' ends into datetimes. The index is named: SQLite's planner, left alone,
# reads every unlinked row through ix_tickets_problem (26 s against 3 s).
_TIMES_SQLITE = f"""
SELECT service_id, title, {{text}} AS text, group_concat(opened_at, ',')
FROM tickets INDEXED BY ix_tickets_unlinked_incidents
WHERE {UNLINKED_INCIDENT} AND service_id {{service}} {{titles}}
  AND opened_at >= :since AND opened_at < :until
GROUP BY service_id, title, text
"""


def _islands_from_times(
    session: Session, statement: Any, params: dict[str, Any], window: timedelta
) -> list[tuple[int, _Island]]:
    """_islands on SQLite: the same runs from each title's (and description's) times."""
    islands: list[tuple[int, _Island]] = []
    parse = datetime.fromisoformat
    for sid, title, text_, joined in sorted(session.execute(statement, params)):
        # group_concat keeps the order rows reach it in: the index's for titles alone.
        # Sorted anyway, so the runs are right whatever the plan (linear when in order).
        times = joined.split(",")
        times.sort()
        # Per day (counted in C), its first and last time: only days can be a window apart.
        per_day = Counter(t[:10] for t in times)
        island: _Island | None = None
        island_last = ""
        at = 0
        for count in per_day.values():  # the days in order: a Counter keeps first sight
            first, last = times[at], times[at + count - 1]
            at += count
            if island is not None and parse(first) - parse(island_last) <= window:
                island.count += count
                island_last = last
                continue
            if island is not None:
                island.last = _utc(island_last)
                islands.append((sid, island))
            start = _utc(first)
            island = _Island(title, start, start, count, text_ or "")
            island_last = last
        if island is not None:
            island.last = _utc(island_last)
            islands.append((sid, island))
    return islands


def _islands(
    session: Session,
    since: datetime,
    until: datetime,
    window: timedelta,
    service_id: int | None,
    *,
    titles: Sequence[str] = (),
) -> list[tuple[int, _Island]]:
    """Per service and title, the runs of unlinked incidents opened in [since, until);
    with `titles` (of one service), per title and description instead.

    The database counts the incidents per day; a day's incidents are all within a window
    of a day or more of each other, so runs are joined days: exact, and a few thousand
    rows where there are hundreds of thousands of incidents.
    """
    dialect = session.get_bind().dialect.name
    sqlite = dialect == "sqlite"
    sql = _TIMES_SQLITE if sqlite else _DAYS_POSTGRESQL
    params: dict[str, Any] = {"since": since, "until": until}
    if service_id is not None:
        params["service_id"] = service_id
    binds = [bindparam("since", type_=UtcDateTime()), bindparam("until", type_=UtcDateTime())]
    if titles:
        params["titles"] = list(titles)
        binds.append(bindparam("titles", expanding=True))
    statement = text(
        sql.format(
            service="IS NOT NULL" if service_id is None else "= :service_id",
            titles="AND title IN :titles" if titles else "",
            text=f"substr(description, 1, {DESCRIPTION_CHARS})" if titles else "''",
        )
    ).bindparams(*binds)
    if sqlite:
        return _islands_from_times(session, statement, params, window)
    days = sorted(
        (sid, title, text_, _utc(first), _utc(last), count)
        for sid, title, text_, _day, count, first, last in session.execute(statement, params)
    )
    islands: list[tuple[int, _Island]] = []
    for sid, title, text_, first, last, count in days:
        if islands:
            last_sid, island = islands[-1]
            if (
                last_sid == sid
                and island.title == title
                and island.description == text_
                and first - island.last <= window
            ):
                island.last = last
                island.count += count
                continue
        islands.append((sid, _Island(title, first, last, count, text_ or "")))
    return islands


def _utc(value: datetime | str) -> datetime:
    # An aggregate over a subquery comes back as the database's own value.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _title_words(title: str, service_words: frozenset[str]) -> frozenset[str]:
    # Every incident of the service may name it ("VPN: …"): within a service its name
    # tells two faults apart no more than a stop word does.
    found = words(title)
    return (found - service_words) or found


def _cluster_service(
    session: Session,
    service_id: int,
    service_name: str,
    islands: list[_Island],
    *,
    since: datetime,
    until: datetime,
    window: timedelta,
    threshold: float,
) -> list[list[_Island]]:
    service_words = words(service_name)
    by_title: dict[str, list[int]] = defaultdict(list)
    for k, island in enumerate(islands):
        by_title[island.title].append(k)
    title_list = list(by_title)
    keys = [_title_words(t, service_words) for t in title_list]
    components = _Components(len(islands))
    floor = max(TITLE_MIN, min((threshold - DESCRIPTION_WEIGHT) / TITLE_WEIGHT, threshold))
    pairs = list(_similar_title_pairs(keys, floor))
    # The runs by description of every title some pair leaves to its descriptions, read in
    # one query: a title in several such pairs is read once.
    undecided = sorted(
        {title_list[k] for a, b, sim in pairs if TITLE_WEIGHT * sim < threshold for k in (a, b)}
    )
    runs_of: dict[str, list[_Island]] = defaultdict(list)
    if undecided:
        for _, run in _islands(session, since, until, window, service_id, titles=undecided):
            runs_of[run.title].append(run)
    for a, b, title_sim in pairs:
        members = by_title[title_list[a]] + ([] if a == b else by_title[title_list[b]])
        if TITLE_WEIGHT * title_sim >= threshold:
            # Similar enough whatever the descriptions say: runs close in time join.
            _join_overlapping(islands, members, components, window)
            continue
        # The descriptions decide: runs of one title and description, for these two titles.
        runs = runs_of[title_list[a]] + ([] if a == b else runs_of[title_list[b]])
        texts = [words(r.description) for r in runs]
        title_of = {title_list[a]: keys[a], title_list[b]: keys[b]}
        joined = _Components(len(runs))
        by_text: dict[tuple[str, frozenset[str]], list[int]] = defaultdict(list)
        for k, run in enumerate(runs):
            by_text[(run.title, texts[k])].append(k)
        signatures = list(by_text)
        for (title_x, text_x), (title_y, text_y) in combinations_with_replacement(signatures, 2):
            if title_x == title_y and a != b:
                continue
            score = similarity(title_of[title_x], title_of[title_y], text_x, text_y)
            if score >= threshold:
                members_xy = by_text[(title_x, text_x)] + (
                    [] if (title_x, text_x) == (title_y, text_y) else by_text[(title_y, text_y)]
                )
                _join_overlapping(runs, members_xy, joined, window)
        owners: dict[int, set[int]] = defaultdict(set)
        for k, run in enumerate(runs):
            owners[joined.find(k)].add(_island_of(islands, by_title[run.title], run.first))
        for owned in owners.values():
            first, *rest = owned
            for other in rest:
                components.union(first, other)
    clusters: dict[int, list[_Island]] = defaultdict(list)
    for k, island in enumerate(islands):
        clusters[components.find(k)].append(island)
    return list(clusters.values())


def _similar_title_pairs(
    keys: list[frozenset[str]], floor: float
) -> Iterable[tuple[int, int, float]]:
    by_word: dict[str, list[int]] = defaultdict(list)
    for k, key in enumerate(keys):
        if key:
            yield k, k, 1.0
        for w in key:
            by_word[w].append(k)
    seen: set[tuple[int, int]] = set()
    for holders in by_word.values():
        for a, b in combinations(holders, 2):
            if (a, b) not in seen:
                seen.add((a, b))
                title_sim = jaccard(keys[a], keys[b])
                if title_sim >= floor:
                    yield a, b, title_sim


def _join_overlapping(
    islands: list[_Island], members: list[int], components: _Components, window: timedelta
) -> None:
    """Join runs whose spans come within the window of each other (then some incident of
    one is within the window of some incident of the other)."""
    ordered = sorted(members, key=lambda k: islands[k].first)
    reach = islands[ordered[0]].last
    for previous, k in pairwise(ordered):
        if islands[k].first - reach <= window:
            components.union(previous, k)
        reach = max(reach, islands[k].last)


def _island_of(islands: list[_Island], members: list[int], at: datetime) -> int:
    for k in members:
        if islands[k].first <= at <= islands[k].last:
            return k
    raise LookupError(at)


def _numbers(
    session: Session,
    service_id: int,
    islands: list[_Island],
    limit: int,
) -> list[str]:
    """The most recent `limit` incidents of a cluster, oldest first: its newest runs first,
    on the scan's index, until enough are read."""
    found: list[tuple[datetime, int, str]] = []
    for island in sorted(islands, key=lambda i: i.last, reverse=True):
        if len(found) >= limit and island.last < found[limit - 1][0]:
            break
        rows = session.execute(
            select(Ticket.opened_at, Ticket.id, Ticket.number)
            .where(
                text(UNLINKED_INCIDENT),
                Ticket.service_id == service_id,
                Ticket.title == island.title,
                Ticket.opened_at >= island.first,
                Ticket.opened_at <= island.last,
            )
            .order_by(Ticket.opened_at.desc(), Ticket.id.desc())
            .limit(limit)
        )
        found.extend((at, i, number) for at, i, number in rows)
        found.sort(reverse=True)
    return [number for _, _, number in reversed(found[:limit])]


def find_recurring(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    window: timedelta = WINDOW,
    threshold: float = THRESHOLD,
    min_size: int = MIN_SIZE,
    service: str | None = None,
    limit: int | None = None,
    incidents_each: int = 50,
) -> list[RecurringCluster]:
    """Clusters of similar incidents opened in [since, until) that no problem holds yet,
    largest first, then most recent; each with its `incidents_each` most recent incidents
    (`size` counts them all). The window is a day or more."""
    if window < timedelta(days=1):
        raise ValueError("the recurring scan's window is a day or more")
    services: dict[int, str] = {
        sid: name for sid, name in session.execute(select(Service.id, Service.name))
    }
    service_id = None
    if service is not None:
        wanted = service.strip().casefold()
        matches = [sid for sid, name in services.items() if name.casefold() == wanted]
        if not matches:
            return []
        service_id = matches[0]
    per_service: dict[int, list[_Island]] = defaultdict(list)
    for sid, island in _islands(session, since, until, window, service_id):
        per_service[sid].append(island)
    found: list[tuple[int, list[_Island]]] = []
    for sid, islands in per_service.items():
        if sum(i.count for i in islands) < min_size:
            continue
        for group in _cluster_service(
            session,
            sid,
            services[sid],
            islands,
            since=since,
            until=until,
            window=window,
            threshold=threshold,
        ):
            if sum(i.count for i in group) >= min_size:
                found.append((sid, group))
    found.sort(key=lambda f: (-sum(i.count for i in f[1]), -max(i.last for i in f[1]).timestamp()))
    if limit is not None:
        found = found[:limit]
    clusters = []
    for sid, group in found:
        counts: Counter[str] = Counter()
        for island in group:
            counts[island.title] += island.count
        clusters.append(
            RecurringCluster(
                service=services[sid],
                incidents=tuple(_numbers(session, sid, group, incidents_each)),
                size=sum(i.count for i in group),
                first_opened=min(i.first for i in group),
                last_opened=max(i.last for i in group),
                title=counts.most_common(1)[0][0],
            )
        )
    return clusters
