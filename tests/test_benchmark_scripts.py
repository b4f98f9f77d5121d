"""The benchmark scripts run: a small synthetic collection is a valid drill home, and the
collection benchmark prints every figure (timings themselves are never asserted)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from drill.decks.loader import load_sources
from drill.home.paths import builtin_decks_dir
from drill.review.store import Store

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def run(script: str, *args: str, home: Path) -> str:
    env = dict(os.environ, DRILL_HOME=str(home))
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return result.stdout


@pytest.fixture(scope="module")
def collection(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("collection")
    args = ("--home", str(home), "--cards", "120", "--reviews", "3000", "--decks", "4")
    run("make_collection.py", *args, home=home)
    return home


def test_the_collection_is_a_valid_home(collection):
    loaded = load_sources([collection / "decks"])
    assert not loaded.errors
    assert len(loaded.decks) == 4 and loaded.card_count == 120
    with Store(collection / "drill.db") as store:
        reviews = store.reviews()
        states = store.cards()
        integrity = store.integrity_check()
    assert len(reviews) == 3000 and integrity == "ok"
    assert [r.reviewed_at for r in reviews] == sorted(r.reviewed_at for r in reviews)
    assert 0 < len(states) < 120  # some cards were never studied
    keys = {card.key for deck in loaded.decks for card in deck.cards}
    assert set(states) <= keys and {r.key for r in reviews} <= keys


def test_an_existing_database_is_never_added_to(collection):
    with pytest.raises(subprocess.CalledProcessError) as failed:
        run("make_collection.py", "--home", str(collection), home=collection)
    assert "exists" in failed.value.stderr
    with sqlite3.connect(collection / "drill.db") as db:
        assert db.execute("SELECT count(*) FROM review_log").fetchone()[0] == 3000


def test_the_collection_benchmark_prints_every_figure(collection):
    out = run("bench_collection.py", "--home", str(collection), "-n", "1", home=collection)
    for figure in (
        "drill due ",
        "drill due, peak memory",
        "drill study, start to first card",
        "study: session start + first card",
        "study: record a review (with commit)",
        "decks, cold parse (4 files, 120 cards)",
        "decks, warm (from the cache)",
    ):
        assert figure in out
    with sqlite3.connect(collection / "drill.db") as db:  # reviews went into a copy
        assert db.execute("SELECT count(*) FROM review_log").fetchone()[0] == 3000


def test_due_dates_fall_on_both_sides_of_now(collection):
    with sqlite3.connect(collection / "drill.db") as db:
        overdue, later = db.execute(
            "SELECT sum(due < :now), sum(due >= :now) FROM card_state WHERE state = 2",
            {"now": round(time.time() * 1000)},
        ).fetchone()
    assert overdue > 0 and later > overdue


def test_each_review_keeps_the_state_before_it_for_undo(collection, tmp_path):
    copy = tmp_path / "drill.db"
    with sqlite3.connect(collection / "drill.db") as source, sqlite3.connect(copy) as target:
        source.backup(target)
    with Store(copy) as store:
        last = store.reviews()[-1]
        earlier = [r for r in store.reviews(last.key) if r.id != last.id]
        key = store.undo(last.id, last.reviewed_at)
        restored = store.card(key)
        retention = store.db.execute("SELECT count(*) FROM review_retention").fetchone()[0]
        in_review = store.db.execute(
            "SELECT count(*) FROM review_log WHERE state_before = 2"
        ).fetchone()[0]
    assert retention == in_review > 0
    if earlier:  # the card is back where its previous review left it
        assert restored is not None and restored.last_review == earlier[-1].reviewed_at
        assert restored.due == earlier[-1].due_after
    else:
        assert restored is None


def test_the_anki_collection_matches_the_drill_home(collection, tmp_path):
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import bench_vs_anki
    finally:
        sys.path.remove(str(BENCHMARKS))
    from anki.collection import Collection

    path = tmp_path / "collection.anki2"
    bench_vs_anki.build_anki(collection, path)
    with Store(collection / "drill.db") as store:
        states = store.cards()
        reviews = len(store.reviews())
    decks = load_sources([builtin_decks_dir(), collection / "decks"])
    col = Collection(str(path))
    try:
        assert col.get_config("fsrs") is True
        assert col.db.scalar("SELECT count(*) FROM cards") == decks.card_count
        assert col.db.scalar("SELECT count(*) FROM revlog") == reviews
        by_type = dict(col.db.all("SELECT type, count(*) FROM cards WHERE type > 0 GROUP BY type"))
        assert by_type == {
            state: sum(1 for r in states.values() if int(r.state) == state) for state in by_type
        }
        assert col.db.scalar("SELECT count(*) FROM cards WHERE queue = -1") == sum(
            r.suspended for r in states.values()
        )
        new, _, review = col.sched.counts()
        assert new == 20 and review > 0
    finally:
        col.close()
