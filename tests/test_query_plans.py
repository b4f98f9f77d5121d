"""The queries of the study path and of `drill stats` read the review log through indexes.

Every statement the real code runs is captured (sqlite3's trace callback) and its
`EXPLAIN QUERY PLAN` checked: a full scan of the review log (or of the retention copy
kept beside it) would grow with years of history, so it must never appear. Scanning a
partial index is allowed: it reads only the rows the index keeps (stats' graded compute
answers), not the log.

`drill stats` must also read the ranges it does need (a year of reviews) at the cost of
counting them: that is checked by counting SQLite's virtual-machine steps, which do not
depend on the machine, as the log grows.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from queue_support import vm_steps

from drill.home.config import Config
from drill.model import Card, CardState, CardType, Rating
from drill.review import stats
from drill.review.session import Session
from drill.review.store import CardRecord, Review, Store

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
GROWING = {"review_log", "review_retention"}  # tables that grow with every review
CARDS = [Card("d", f"c{i}", q="q", a="a") for i in range(6)] + [
    Card("g", "x", type=CardType.COMPUTE, generator="mlp-backward")
]


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "drill.db") as store:
        history = []
        for day in range(30, 0, -1):
            for card in CARDS[:4]:
                at = NOW - timedelta(days=day, minutes=CARDS.index(card))
                due = at + timedelta(days=2)
                state = CardState.NEW if day == 30 else CardState.REVIEW
                review = Review(card.key, at, Rating.GOOD, state, CardState.REVIEW, due, 900)
                after = CardRecord(card.key, CardState.REVIEW, None, 2.0, 5.0, due, at, 31 - day)
                history.append((review, after))
        store.record_many(history)
        # one undone review: the stats queries that take undone reviews away must run
        # against a non-empty `undone`
        latest = store.db.execute("SELECT max(id) FROM review_log").fetchone()[0]
        store.undo(latest, NOW)
        yield store


def statements(store: Store, run: Callable[[], object]) -> list[str]:
    """Every statement `run` executes on the store's connection, parameters filled in."""
    seen: list[str] = []
    store.db.set_trace_callback(seen.append)
    try:
        run()
    finally:
        store.db.set_trace_callback(None)
    return seen


def plan_lines(store: Store, sql: list[str]) -> Iterator[tuple[str, str]]:
    """(statement, plan line) for every line of every query's plan, the statements
    replayed on another connection (with the scratch tables and views they join with)."""
    check = sqlite3.connect(store.path)
    try:
        for statement in sql:
            if re.match(r"\s*(CREATE TEMP|DROP)\b", statement, re.IGNORECASE):
                check.execute(statement)
            elif re.match(r"\s*(SELECT|WITH|UPDATE|DELETE)\b", statement, re.IGNORECASE):
                for *_, detail in check.execute(f"EXPLAIN QUERY PLAN {statement}"):
                    yield statement, detail
    finally:
        check.close()


def full_scans(store: Store, sql: list[str]) -> list[tuple[str, str]]:
    """(statement, plan line) for each scan of a growing table, in replayed statements."""
    with sqlite3.connect(store.path) as check:
        partial = _partial_indexes(check)
    found = []
    for statement, detail in plan_lines(store, sql):
        scan = re.match(r"SCAN (\w+)(?: USING (?:COVERING )?INDEX (\w+))?", detail)
        table = _aliases(statement).get(scan[1], scan[1]) if scan else None
        if table in GROWING and scan[2] not in partial:
            found.append((statement, detail))
    return found


def _partial_indexes(db: sqlite3.Connection) -> set[str]:
    rows = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql != ''")
    return {name for name, sql in rows if re.search(r"\bWHERE\b", sql, re.IGNORECASE)}


def _aliases(statement: str) -> dict[str, str]:
    pairs = re.findall(r"(?:FROM|JOIN)\s+(?:\w+\.)?(\w+)\s+(?:AS\s+)?(\w+)", statement, re.I)
    return {alias: table for table, alias in pairs}


def test_the_checker_sees_a_full_scan(store):
    # The check must be able to fail: an unindexed filter on the log is reported.
    query = "SELECT * FROM review_log r WHERE r.rating = 3"
    sql = statements(store, lambda: store.db.execute(query))
    assert full_scans(store, sql) == [(query, "SCAN r")]


def test_the_study_path_reads_the_log_through_indexes(store):
    def study() -> None:
        session = Session(store, CARDS, Config(), clock=lambda: NOW)
        card = session.next_card()
        assert card is not None
        session.answer(card, Rating.GOOD)
        session.undo()
        session.suspend(card)
        session.finish()

    sql = statements(store, study)
    assert any("review_log" in s for s in sql)  # the log was read and written
    assert full_scans(store, sql) == []


@pytest.mark.parametrize(
    "query",
    [
        lambda s: s.counts_since(NOW - timedelta(days=1)),
        lambda s: s.reviews("d/c1"),
        lambda s: s.card("d/c1"),
        lambda s: s.cards(),
        lambda s: s.follow_renames({"d/c1": "d/renamed"}, NOW),
        lambda s: s.history_keys("d/renamed"),
    ],
    ids=["counts_since", "reviews", "card", "cards", "follow_renames", "history_keys"],
)
def test_each_hot_query_uses_an_index(store, query):
    sql = statements(store, lambda: query(store))
    assert sql
    assert full_scans(store, sql) == []


@pytest.mark.parametrize("deck_ids", [(), ("d",)], ids=["all decks", "one deck"])
def test_stats_read_the_log_through_indexes(store, deck_ids):
    def collect() -> None:
        stats.collect(store, CARDS, NOW, 4, deck_ids)

    sql = statements(store, collect)
    assert any("review_retention" in s for s in sql)
    assert full_scans(store, sql) == []


def test_stats_take_undone_reviews_away_from_undone_outwards(store):
    # A plan that reads a range of the log and looks each review up in `undone` would
    # cost the whole range; the statements over `undone` must start from it.
    sql = statements(store, lambda: stats.collect(store, CARDS, NOW, 4, ("d",)))
    check = sqlite3.connect(store.path)
    try:
        for statement in sql:
            if re.match(r"\s*CREATE TEMP", statement):
                check.execute(statement)
            elif re.search(r"\bFROM undone u\b", statement):
                plan = [row[-1] for row in check.execute(f"EXPLAIN QUERY PLAN {statement}")]
                outer = plan.index("SCAN u")  # ValueError: undone is not read in full
                assert plan[outer + 1] == "SEARCH r USING INTEGER PRIMARY KEY (rowid=?)", plan
    finally:
        check.close()
    assert any(re.search(r"\bFROM undone u\b", s) for s in sql)


def vm_steps_of_stats(tmp_path, reviews: int) -> int:
    """SQLite virtual-machine steps of stats.collect over `reviews` reviews of 60 cards in
    the review state, a card every 30 minutes (so each card's reviews are 30 hours apart:
    no repeats within a study day), all within the last year."""
    cards = [Card("d", f"c{i}", q="q", a="a") for i in range(60)]
    with Store(tmp_path / f"{reviews}.db") as store:
        history = []
        for i in range(reviews):
            key = cards[i % 60].key
            at = NOW - timedelta(days=300, minutes=-30 * i)
            due = at + timedelta(days=30 if i % 3 else 2)
            state = CardState.NEW if i < 60 else CardState.REVIEW
            rating = Rating.AGAIN if i % 5 == 0 else Rating.GOOD
            review = Review(key, at, rating, state, CardState.REVIEW, due, 900)
            history.append((review, CardRecord(key, CardState.REVIEW, None, 2.0, 5.0, due, at)))
        store.record_many(history)
        return vm_steps(store, lambda: stats.collect(store, cards, NOW, 4))


def test_stats_count_a_year_of_reviews_without_reading_each(tmp_path):
    # Reading each review and testing it takes some 50 steps a review; counting an index
    # range takes a few. The calendar and retention both cover every review here.
    more = vm_steps_of_stats(tmp_path, 4000) - vm_steps_of_stats(tmp_path, 2000)
    assert more / 2000 < 10


def test_drill_due_counts_each_decks_due_reviews_as_an_index_range(tmp_path, monkeypatch):
    """Reviews due by tomorrow are counted deck by deck through the index by state, deck
    and due date (m009_due_by_deck), not sorted into decks: at 100,000 cards some 20,000
    of them, ~15 ms of every `drill due`. The query must write the deck as the index does."""
    from drill.decks.index import load_index
    from drill.review.due import DueQuery

    folder = tmp_path / "decks"
    folder.mkdir()
    for deck in ("a", "b"):
        cards = "".join(f"  - {{id: c{i}, q: Q{i}?, a: A{i}.}}\n" for i in range(5))
        (folder / f"{deck}.yaml").write_text(f"id: {deck}\ntitle: T\ncards:\n{cards}")
    monkeypatch.setenv("DRILL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DRILL_DECKS", str(folder))
    due = NOW - timedelta(days=1)
    with Store.open() as store:
        for key in ("a/c1", "b/c1", "b/c2"):
            store.replace_states([CardRecord(key, CardState.REVIEW, None, 5.0, 5.0, due, due, 3)])
    load_index()  # parsed once, then cached: the kept lists apply from now on
    index = load_index()
    index.select(["a", "b"])
    with Store.open() as store, DueQuery(store, index, NOW, Config()) as query:
        plans = []
        store.db.set_trace_callback(plans.append)
        rows, total, _ = query.counts()
        store.db.set_trace_callback(None)
        assert query.kept
        detail = [
            line[-1]
            for statement in plans
            if statement.lstrip().startswith("SELECT")
            for line in store.db.execute(f"EXPLAIN QUERY PLAN {statement}")
        ]
    assert total.review == 3 and {deck: rows[deck].review for deck in rows} == {"a": 1, "b": 2}
    ranges = "card_state_deck_due (state=? AND <expr>=? AND due<?)"
    assert sum(ranges in line for line in detail) == 2  # today's, and by tomorrow
    assert not any("card_state_due (state=? AND due<?)" in line for line in detail)


def test_stats_take_the_hardest_cards_and_leeches_from_their_indexes(store):
    """Most lapses first: read from the partial indexes of lapsed cards and of leeches
    (m010_trouble_indexes), not by sorting every card that ever lapsed."""
    sql = statements(store, lambda: stats.collect(store, CARDS, NOW, 4))
    plans: dict[str, list[str]] = {}
    for statement, detail in plan_lines(store, sql):
        if "ORDER BY s.lapses DESC" in statement:
            plans.setdefault(statement, []).append(detail)
    assert len(plans) == 2
    for statement, plan in plans.items():
        index = "card_state_leeches" if "s.leech = 1" in statement else "card_state_lapsed"
        assert any(index in line for line in plan), plan
        assert not any("TEMP B-TREE FOR ORDER BY" in line for line in plan), plan
