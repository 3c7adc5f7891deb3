"""Ranked knowledge search and suggestions on a small corpus with known answers, both databases."""

from __future__ import annotations

from typing import Any

import pytest

from itsm_tui.data import knowledge_search as ks
from itsm_tui.desk import knowledge as kb
from tests.conftest import postgresql_only
from tests.factories import NOW, Desk

# (title, body, tags, status); the tests name articles by their title.
CORPUS: list[tuple[str, str, list[str], str]] = [
    (
        "VPN disconnects every hour",
        "The VPN client drops the tunnel when the DHCP lease renews. Pin the lease.",
        ["vpn", "network"],
        "published",
    ),
    (
        "Outlook cannot connect to Exchange",
        "Recreate the Outlook profile. Off site, connect the VPN first.",
        ["email"],
        "published",
    ),
    ("Printer shows offline", "Restart the print spooler on the print server.", [], "published"),
    ("打印机无法连接", "重启打印服务，然后重新添加打印机。", ["打印"], "published"),
    ("共享盘映射失败", "如果打印机也离线，先检查网络。", [], "published"),
    ("VPN certificate expired", "Renew the VPN certificate from the portal.", ["vpn"], "draft"),
    ("VPN client 3.1 crashes", "Upgrade the VPN client; 3.1 is withdrawn.", ["vpn"], "retired"),
    ("Café Wi-Fi captive portal", "Open any http page to reach the portal.", [], "published"),
]


@pytest.fixture
def corpus(desk: Desk) -> dict[str, str]:
    """Title → article number."""
    numbers = {}
    with desk.store.write() as session:
        alice = desk.actor(session, "alice")
        sam = desk.actor(session, "sam")
        for title, body, tags, status in CORPUS:
            art = kb.create_article(session, alice, title=title, body=body, tags=tags, now=NOW)
            if status in ("published", "retired"):
                kb.publish_article(session, sam, art.number, now=NOW)
            if status == "retired":
                kb.retire_article(session, sam, art.number, now=NOW)
            numbers[title] = art.number
    return numbers


def titles(hits: list[ks.ArticleHit]) -> list[str]:
    return [h.title for h in hits]


def search(desk: Desk, query: str, **kwargs: Any) -> list[str]:
    with desk.store.read() as session:
        return titles(ks.search_articles(session, query, **kwargs))


def suggest(desk: Desk, written: str) -> list[str]:
    with desk.store.read() as session:
        return titles(ks.suggest_articles(session, written))


def test_a_word_in_the_title_and_tags_outranks_one_in_the_body(desk: Desk, corpus: Any) -> None:
    assert search(desk, "vpn ") == [
        "VPN disconnects every hour",
        "Outlook cannot connect to Exchange",
    ]


def test_articles_with_every_word_in_the_title_come_first(
    desk: Desk, corpus: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # More matches than a search ranks at once (PostgreSQL's read cap, SQLite's budget): the
    # three titles holding "vpn" (any status), then the one holding it only in its body.
    monkeypatch.setattr(ks, "PG_SEARCH_READ", 3)
    monkeypatch.setattr(ks, "SEARCH_BUDGET", 3)
    found = search(desk, "vpn ", statuses=("draft", "published", "retired"))
    assert set(found[:3]) == {
        "VPN disconnects every hour",
        "VPN certificate expired",
        "VPN client 3.1 crashes",
    }
    assert found[3:] == ["Outlook cannot connect to Exchange"]


@postgresql_only
def test_postgresql_ranks_at_most_its_read_cap_of_each_tier(
    desk: Desk, corpus: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Four articles hold "vpn": one read from the titles' tier and one from the rest.
    monkeypatch.setattr(ks, "PG_SEARCH_READ", 1)
    found = search(desk, "vpn ", statuses=("draft", "published", "retired"))
    assert 1 <= len(found) <= 2
    assert found[0].startswith("VPN")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sqlite_ranks_the_newest_matches_up_to_its_read_cap(
    desk: Desk, corpus: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Four articles hold "vpn"; bm25 scores the two written last.
    monkeypatch.setattr(ks, "SEARCH_READ", 2)
    found = search(desk, "vpn ", statuses=("draft", "published", "retired"))
    assert set(found) == {"VPN certificate expired", "VPN client 3.1 crashes"}


def test_drafts_and_retired_articles_are_found_only_when_asked_for(desk: Desk, corpus: Any) -> None:
    found = search(desk, "vpn ", statuses=("draft", "published", "retired"))
    assert set(found) == {
        "VPN disconnects every hour",
        "Outlook cannot connect to Exchange",
        "VPN certificate expired",
        "VPN client 3.1 crashes",
    }


def test_every_word_must_match_and_the_last_one_is_a_prefix(desk: Desk, corpus: Any) -> None:
    assert search(desk, "print spoo") == ["Printer shows offline"]
    assert search(desk, "vpn lease") == ["VPN disconnects every hour"]
    assert search(desk, "vpn spooler") == []


def test_punctuation_at_a_words_edges_is_not_part_of_it(desk: Desk, corpus: Any) -> None:
    # The `/` that opened the search box, typed again into it, or a word quoted in a sentence:
    # PostgreSQL's parser would read `/print` as a path; both databases drop it.
    assert search(desk, "/print spoo") == ["Printer shows offline"]
    assert search(desk, "(vpn), lease.") == ["VPN disconnects every hour"]


def test_accents_fold_on_sqlite_and_match_as_typed_on_postgresql(desk: Desk, corpus: Any) -> None:
    # PostgreSQL's 'simple' configuration keeps accents, as for tickets (docs/search.md).
    assert search(desk, "Café") == ["Café Wi-Fi captive portal"]
    folded = ["Café Wi-Fi captive portal"] if desk.store.is_sqlite else []
    assert search(desk, "cafe") == folded


def test_cjk_title_outranks_cjk_body(desk: Desk, corpus: Any) -> None:
    assert search(desk, "打印机") == ["打印机无法连接", "共享盘映射失败"]


def test_a_two_character_cjk_word_is_found_in_titles_and_bodies(desk: Desk, corpus: Any) -> None:
    assert search(desk, "离线") == ["共享盘映射失败"]
    assert search(desk, "打印")[0] == "打印机无法连接"


def test_empty_query_lists_the_newest_published(desk: Desk, corpus: Any) -> None:
    assert search(desk, "")[0] == "Café Wi-Fi captive portal"
    assert "VPN certificate expired" not in search(desk, "")


def test_query_syntax_is_only_text(desk: Desk, corpus: Any) -> None:
    for hostile in ['"vpn" OR NEAR(', "vpn* AND -x", "'; DROP TABLE x; --", "\\", "[red]vpn"]:
        search(desk, hostile)
        suggest(desk, hostile)


def test_suggestions_rank_the_article_about_what_is_written(desk: Desk, corpus: Any) -> None:
    written = "User says the VPN keeps dropping every hour since this morning"
    got = suggest(desk, written)
    assert got[0] == "VPN disconnects every hour"
    assert "VPN certificate expired" not in got  # a draft is never suggested
    assert "VPN client 3.1 crashes" not in got  # nor a retired one


def test_suggestions_read_cjk_text(desk: Desk, corpus: Any) -> None:
    assert suggest(desk, "财务部的打印机无法打印")[0] == "打印机无法连接"


def test_suggestions_for_nothing_relevant_are_empty(desk: Desk, corpus: Any) -> None:
    assert suggest(desk, "") == []
    assert suggest(desk, "zzz qqq") == []


def test_the_budget_keeps_the_rarest_words_and_common_ones_only_in_titles(
    desk: Desk,
) -> None:
    budget = ks.SUGGEST_BUDGET
    counts = {
        "*the": budget * 10,  # everywhere, and in most titles too: dropped
        "title:the": budget + 1,
        "*outlook": budget + 1,  # too common anywhere, ranked by its titles only
        "title:outlook": 900,
        "*lease": 3,
        "*nothing": 0,
        "*finance": budget - 100,  # fits alone, not beside the rarer ones
    }
    ks._counts.clear()
    with desk.store.read() as session:
        picked = ks._pick(
            session,
            ["the", "outlook", "lease", "nothing", "finance"],
            everywhere=lambda w: "*" + w,
            in_title=lambda w: "title:" + w,
            count=counts.__getitem__,
        )
    ks._counts.clear()
    assert picked == ["*lease", "title:outlook"]


@pytest.fixture
def small_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """A budget the small corpus passes, so the paths a base of 100,000 takes are taken."""
    monkeypatch.setattr(ks, "SUGGEST_BUDGET", 1)
    monkeypatch.setattr(ks, "PG_SUGGEST_BUDGET", 1)
    ks._counts.clear()
    yield
    ks._counts.clear()


def test_a_common_word_suggests_by_its_titles(desk: Desk, corpus: Any, small_budget: None) -> None:
    # "vpn" is in two published articles: over the budget, it counts by its one title.
    assert suggest(desk, "vpn hourly drops") == ["VPN disconnects every hour"]


@postgresql_only
def test_when_every_word_is_too_common_titles_holding_them_together_are_suggested(
    desk: Desk, corpus: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite ranks a word in 6,000 titles; only PostgreSQL falls back.
    monkeypatch.setattr(ks, "PG_SUGGEST_BUDGET", 0)
    ks._counts.clear()
    try:
        # Every word is over a budget of 0: the titles holding "printer" and "offline".
        assert suggest(desk, "printer offline on floor two") == ["Printer shows offline"]
        assert suggest(desk, "zzz qqq") == []
        # CJK pairs too: those of "打印机无法连接" are all in its article.
        assert suggest(desk, "财务部的打印机无法连接了")[0] == "打印机无法连接"
    finally:
        ks._counts.clear()


def test_cjk_suggestions_rank_the_title_holding_the_phrase_first(
    desk: Desk, corpus: Any, small_budget: None
) -> None:
    got = suggest(desk, "财务部的打印机无法连接了")
    assert got[0] == "打印机无法连接"


@postgresql_only
def test_cjk_pairs_are_the_databases_pairs(desk: Desk) -> None:
    # The pairs of PostgreSQL's cjk_vector (migration 0026).
    from sqlalchemy import text

    for written in ["财务部的打印机无法连接，重启 VPN 后", "印", "ログイン できない", "abc", ""]:
        with desk.store.read() as session:
            made = session.scalar(text("SELECT knowledge_cjk_pairs(:t)"), {"t": written})
        assert made.split() == ks.cjk_pairs(written), written
