"""The benchmark scripts run: a small synthetic collection is a valid drill home, and the
collection benchmark prints every figure (timings themselves are never asserted)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from drill.decks.loader import load_sources
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
