"""Full-text search of tickets on SQLite and PostgreSQL: syntax, CJK, hostile input, upkeep."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from alembic import command
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from itsm_tui import desk as d
from itsm_tui.data import search as search_module
from itsm_tui.data import seed as seed_module
from itsm_tui.data.migrate import alembic_config, current_revision, head_revision
from itsm_tui.data.models import Ticket
from itsm_tui.data.search import parse_query, search_statement, search_tickets
from itsm_tui.data.seed import seed_store
from itsm_tui.data.store import Store
from tests.factories import NOW, Desk, build_desk
from tests.store.test_seed import make_desk

# Title, description — each ticket is what one test case looks for.
TICKETS = {
    "printer": ("Printer on floor 3 jams", "The HP LaserJet shows a paper jam error."),
    "vpn": ("VPN drops every hour", "Connection to the office network drops."),
    "cjk": ("办公室打印机坏了", "三楼的打印机无法打印文件"),
    "cjk_end": ("无法打印", "用户说无法打印"),
    "accents": ("Café menu screen broken 🔥", "résumé upload fails 😀"),
    "hostile": (
        'Mail "quoted" AND NEAR(x) * ^ col:value (paren) -minus',
        "a & b | c ! d <-> e :* f ' g \\ h % i _ j {k} [l] +m",
    ),
}
# Every operator and quote character of FTS5, tsquery and LIKE, alone and in company.
HOSTILE = [
    '"',
    '""',
    '"""',
    "'",
    "''",
    "\\",
    "AND",
    "OR",
    "NOT",
    "NEAR",
    "NEAR(printer vpn)",
    "NEAR(printer vpn, 2)",
    "printer*",
    "*",
    "^printer",
    "^",
    "title:printer",
    "{title}: printer",
    "col:value",
    ":",
    "(",
    ")",
    "((printer",
    "-minus",
    "-",
    "+",
    "&",
    "|",
    "!",
    "<->",
    "<2>",
    ":*",
    "printer:*",
    "printer & vpn",
    "printer' | 'vpn",
    "%",
    "_",
    "%_%",
    "a\\",
    "\x00",
    "\ud800",
    "printer\x00vpn",
    'printer "unclosed',
    'OR "AND" NOT',
    "😀",
    "\u200b",
    "ǅ",
]


def write(desk: Desk, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    with desk.store.write() as session:
        kwargs.setdefault("now", NOW)
        result = fn(session, desk.actor(session, desk.agent), *args, **kwargs)
        return result.number if isinstance(result, Ticket) else result


def create(desk: Desk, title: str, description: str = "") -> str:
    return write(
        desk,
        d.create_ticket,
        type="incident",
        title=title,
        description=description,
        impact=2,
        urgency=2,
    )


@pytest.fixture
def tickets(desk: Desk) -> dict[str, str]:
    """The tickets of TICKETS, by key: their numbers."""
    return {key: create(desk, title, body) for key, (title, body) in TICKETS.items()}


def found(store: Store, query: str, **kwargs: Any) -> set[str]:
    with store.read() as session:
        ids = search_tickets(session, query, **kwargs)
        rows = session.scalars(select(Ticket.number).where(Ticket.id.in_(ids))) if ids else []
        return set(rows)


def keys(tickets: dict[str, str], *names: str) -> set[str]:
    return {tickets[name] for name in names}


def test_words_match_every_column_case_insensitively_and_all_must_occur(
    desk: Desk, tickets: dict[str, str]
) -> None:
    store = desk.store
    assert found(store, "printer") == keys(tickets, "printer")
    assert found(store, "LASERJET") == keys(tickets, "printer")  # in the description
    assert found(store, "jam printer ") == keys(tickets, "printer")  # any order
    assert found(store, "printer vpn") == set()
    assert found(store, "drops") == keys(tickets, "vpn")
    # Punctuation at a word's edges is not part of it (PostgreSQL would read `/printer` as a
    # path and find nothing).
    assert found(store, "/printer") == keys(tickets, "printer")
    assert found(store, "(vpn), dro") == keys(tickets, "vpn")


def test_quoted_phrases_keep_their_word_order(desk: Desk, tickets: dict[str, str]) -> None:
    store = desk.store
    assert found(store, '"paper jam"') == keys(tickets, "printer")
    assert found(store, '"jam paper"') == set()
    assert found(store, '"paper jam" laserjet') == keys(tickets, "printer")
    # An unclosed quote is a phrase being typed: its last word is a prefix.
    assert found(store, '"paper ja') == keys(tickets, "printer")


def test_the_word_being_typed_is_a_prefix(desk: Desk, tickets: dict[str, str]) -> None:
    store = desk.store
    assert found(store, "prin") == keys(tickets, "printer")
    assert found(store, "vpn dro") == keys(tickets, "vpn")
    # Finished words (a space after them) must match whole.
    assert found(store, "prin ") == set()
    assert found(store, "prin jam") == set()
    # A single letter is not yet a prefix: it would match most of a big desk.
    assert parse_query("p").terms[0].prefix is False
    assert parse_query("pr").terms[0].prefix is True


def test_a_ticket_number_matches_exactly_in_any_spelling(
    desk: Desk, tickets: dict[str, str]
) -> None:
    store = desk.store
    vpn = tickets["vpn"]
    n = int(vpn[3:])
    for spelling in (vpn, vpn.lower(), f"inc{n}", f"INC-{n}", f"#{n}", f"{n:07d}", f"{n} "):
        assert found(store, spelling) == {vpn}, spelling
    # A bare 3 is ticket number 3 and the word 3 ("floor 3").
    third = sorted(tickets.values())[2]
    assert found(store, "3 ") == {third, tickets["printer"]}
    assert found(store, f"{vpn} drops") == {vpn}
    assert found(store, f"{vpn} printer") == set()
    # Another type's prefix is another ticket.
    assert found(store, f"REQ{n}") == set()


def test_cjk_words_are_found_inside_titles(desk: Desk, tickets: dict[str, str]) -> None:
    store = desk.store
    both = keys(tickets, "cjk", "cjk_end")
    assert found(store, "打印") == both  # two characters, in the middle and at the end
    assert found(store, "打印机") == keys(tickets, "cjk")
    assert found(store, "印机坏") == keys(tickets, "cjk")
    assert found(store, "印") == both
    assert found(store, "无法打印") == keys(tickets, "cjk_end")
    assert found(store, "三楼") == keys(tickets, "cjk")  # a description starting with it
    assert found(store, "打印 办公室") == keys(tickets, "cjk")
    assert found(store, "打印 printer") == set()
    assert found(store, "打字") == set()


def test_accents_and_emoji(desk: Desk, tickets: dict[str, str]) -> None:
    store = desk.store
    assert found(store, "café") == keys(tickets, "accents")
    assert found(store, "Résumé") == keys(tickets, "accents")
    # unicode61 folds accents; PostgreSQL's 'simple' configuration does not.
    expected = keys(tickets, "accents") if store.is_sqlite else set()
    assert found(store, "cafe") == expected
    # Emoji are not indexed: alone they are an empty query, with words they are ignored.
    assert found(store, "🔥") == set(tickets.values())
    assert found(store, "🔥 broken") == keys(tickets, "accents")


def test_an_empty_query_matches_every_ticket_newest_first(
    desk: Desk, tickets: dict[str, str]
) -> None:
    with desk.store.read() as session:
        ids = search_tickets(session, "   ")
        order = list(session.scalars(select(Ticket.id).order_by(Ticket.id.desc())))
    assert ids == order
    assert len(ids) == len(TICKETS)


def test_open_only_and_limit(desk: Desk, tickets: dict[str, str]) -> None:
    write(desk, d.resolve_ticket, tickets["cjk"], code="fixed", notes="done")
    assert found(desk.store, "打印", open_only=True) == keys(tickets, "cjk_end")
    with desk.store.read() as session:
        assert len(search_tickets(session, "", limit=2)) == 2
        assert search_tickets(session, "", limit=0) == []


@pytest.mark.parametrize("window", [20_000, 3], ids=["recent", "older"])
def test_pages_continue_below_the_last_id(
    desk: Desk, tickets: dict[str, str], monkeypatch, window: int
) -> None:
    # A window of 3 makes PostgreSQL find most matches below it, through the GIN index.
    monkeypatch.setattr(search_module, "RECENT_WINDOW", window)
    for i in range(5):
        create(desk, f"Toner low {i}", "replace the toner")
    create(desk, "Unrelated", "nothing")
    with desk.store.read() as session:
        for query in ("toner", "toner 🔥", "", "printer", "打印"):
            every = search_tickets(session, query, limit=100)
            assert len(every) == {"toner": 5, "toner 🔥": 5, "printer": 1, "打印": 2}.get(
                query, len(TICKETS) + 6
            )
            first = search_tickets(session, query, limit=1)
            rest = search_tickets(session, query, limit=100, before_id=first[-1])
            assert first + rest == every
            assert every == sorted(every, reverse=True)


@pytest.mark.parametrize("query", HOSTILE)
def test_operators_and_quotes_are_text(desk: Desk, tickets: dict[str, str], query: str) -> None:
    found(desk.store, query)  # never a syntax error


def test_operator_words_find_the_ticket_that_contains_them(
    desk: Desk, tickets: dict[str, str]
) -> None:
    store = desk.store
    hostile = keys(tickets, "hostile")
    for query in ("AND", "NEAR(x)", "col:value", "-minus", "(paren)", '"quoted" mail', "{k}"):
        assert found(store, query + " ") == hostile, query
    assert found(store, "printer*") == keys(tickets, "printer")
    assert found(store, "NEAR(printer vpn)") == set()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query=st.text())
@example(query='"printer*" OR x NEAR(y) ^z col:"')
@example(query="'; DROP TABLE tickets; --")
@example(query="\\'\\\\'")
def test_any_query_runs_and_changes_nothing(
    desk: Desk, tickets: dict[str, str], query: str
) -> None:
    store = desk.store

    def snapshot() -> list[tuple[Any, ...]]:
        with store.read() as s:
            return [tuple(r) for r in s.execute(select(Ticket.__table__).order_by(Ticket.id))]

    before = snapshot()
    with store.read() as session:
        ids = search_tickets(session, query)
    assert set(ids) <= {row[0] for row in before}
    assert snapshot() == before


def test_the_index_follows_the_write_path(desk: Desk) -> None:
    store = desk.store
    number = create(desk, "Keyboard sticky", "coffee spilled")
    assert found(store, "keyboard") == {number}
    write(desk, d.update_ticket, number, title="Mouse wheel 鼠标滚轮坏了")
    assert found(store, "keyboard") == set()
    assert found(store, "mouse") == {number}
    assert found(store, "滚轮") == {number}
    assert found(store, "coffee") == {number}  # the description did not change
    write(desk, d.update_ticket, number, description="tea this time")
    assert found(store, "coffee") == set()
    assert found(store, "tea") == {number}
    assert found(store, "滚轮") == {number}


def test_upgrading_a_0001_store_indexes_its_tickets(db_url: str) -> None:
    store = Store(db_url)
    try:
        command.upgrade(alembic_config(store.engine), "0001")
        old = build_desk(store)
        number = create(old, "Scanner offline 扫描仪离线", "since Monday")
        store.upgrade()
        assert current_revision(store.engine) == head_revision()
        assert found(store, "scanner") == {number}
        assert found(store, "扫描") == {number}
        assert found(store, "monday") == {number}
        # And the index keeps up afterwards.
        later = create(old, "Scanner jammed")
        assert found(store, "scanner") == {number, later}
    finally:
        store.dispose()


def test_the_downgrade_removes_the_search_and_the_upgrade_restores_it(db_url: str) -> None:
    store = Store(db_url)
    try:
        store.upgrade()
        desk = build_desk(store)
        number = create(desk, "Projector flickers")
        command.downgrade(alembic_config(store.engine), "0001")
        assert current_revision(store.engine) == "0001"
        later = create(desk, "Projector dead")  # writes work without the index
        store.upgrade()
        assert found(store, "projector") == {number, later}
    finally:
        store.dispose()


@pytest.mark.parametrize("big", [False, True], ids=["triggers", "rebuild"])
def test_a_seeded_store_is_searchable(store: Store, monkeypatch, big: bool) -> None:
    if big:
        # The load a million-ticket seed takes: upkeep paused, index rebuilt at the end.
        monkeypatch.setattr(seed_module, "REBUILD_INDEXES_FROM", 100)
    make_desk(store)
    seed_store(store, tickets=2_000, now=NOW)
    with store.read() as session:
        printing = session.scalars(
            select(Ticket.id).where(func.lower(Ticket.title).like("%printer offline%"))
        ).all()
        assert printing
        assert set(search_tickets(session, '"printer offline"', limit=10_000)) == set(printing)
        some = session.scalar(select(Ticket.number).order_by(Ticket.id.desc()).limit(1))
        assert some is not None
        assert (
            session.scalar(
                select(Ticket.number).where(Ticket.id.in_(search_tickets(session, some)))
            )
            == some
        )
        total = session.scalar(select(func.count()).select_from(Ticket))
        assert len(search_tickets(session, "", limit=10_000)) == total
    # The upkeep is back: a ticket written after the seed is found.
    with store.write() as s:
        t = s.scalars(select(Ticket).order_by(Ticket.id).limit(1)).one()
        t.title = "Zeppelin 飞艇 hangar"
        t.version += 1
    assert found(store, "zeppelin") == {t.number}
    assert found(store, "飞艇") == {t.number}
    if store.is_sqlite:
        with store.engine.connect() as conn:
            # FTS5 checks its index against the content table; raises if they differ.
            conn.exec_driver_sql("INSERT INTO tickets_fts (tickets_fts) VALUES ('integrity-check')")


def _plan(store: Store, query: str) -> str:
    stmt = search_statement(store.dialect, query)
    with store.engine.connect() as conn:
        compiled = stmt.compile(conn)
        if store.is_sqlite:
            params = tuple(compiled.params[name] for name in compiled.positiontup or ())
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), params)
            return "\n".join(str(r[-1]) for r in rows)
        # A handful of rows: the planner would rightly scan them; show what it does at size.
        conn.exec_driver_sql("SET enable_seqscan = off")
        rows = conn.exec_driver_sql("EXPLAIN " + str(compiled), compiled.params)
        return "\n".join(str(r[0]) for r in rows)


def test_explain_uses_the_full_text_indexes(desk: Desk, tickets: dict[str, str]) -> None:
    store = desk.store
    words = _plan(store, "printer ja")
    cjk_long = _plan(store, "打印机")
    cjk_short = _plan(store, "打印")
    if store.is_sqlite:
        assert "tickets_fts VIRTUAL TABLE" in words
        # Newest first straight from the FTS5 rowid order: no sort of all the matches.
        assert "TEMP B-TREE" not in words
        assert "tickets_fts_trgm VIRTUAL TABLE" in cjk_long
        assert "tickets_fts_trgm_vocab VIRTUAL TABLE" in cjk_short
    else:
        assert "ix_tickets_search" in words
        assert "ix_tickets_title_trgm" in cjk_long
