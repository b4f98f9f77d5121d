"""Two drill processes on one database: no review is lost and nobody sees "database is locked".

Writes are short `BEGIN IMMEDIATE` transactions with a busy timeout and a retry, so a
second writer waits its turn instead of failing. The sessions here run as real processes.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections import Counter

import pytest
from study_process import ANSWER, StudyProcess, drill_env, integrity, logged_keys, write_deck

from drill.review.backup import list_backups
from drill.review.store import MIGRATIONS, Store, m001_initial

CARDS = 12


def run_together(sessions: list[StudyProcess], first_cards: list[str], keys: str) -> list[str]:
    """Wait until every session shows its first card, then answer in all of them at once."""
    for session, card in zip(sessions, first_cards, strict=True):
        session.wait_for_card(card)
    for session in sessions:
        session.type(keys)
    outputs = []
    for session in sessions:
        code, screen, stderr = session.finish("q\n")
        assert code == 0, stderr
        assert "locked" not in (screen + stderr).lower()
        assert "error" not in stderr.lower()
        outputs.append(screen)
    return outputs


def test_two_sessions_on_two_decks_lose_no_review(drill_home, tmp_path):
    folder = tmp_path / "decks"
    a, b = write_deck(folder, "a", CARDS), write_deck(folder, "b", CARDS)
    # A fresh home: both processes also race to create and migrate the database.
    sessions = [StudyProcess(drill_home, folder, deck, "--new", str(CARDS)) for deck in "ab"]
    run_together(sessions, [a[0], b[0]], ANSWER * CARDS)

    database = drill_home / "drill.db"
    assert integrity(database) == "ok"
    logged = logged_keys(database)
    assert sorted(logged) == sorted(a + b)
    assert [key for key in logged if key.startswith("a/")] == a  # each in its own order


def test_two_sessions_on_one_deck_both_keep_their_answers(drill_home, tmp_path):
    folder = tmp_path / "decks"
    keys = write_deck(folder, "d", CARDS)
    with Store(drill_home / "drill.db"):
        pass  # an existing database this time
    sessions = [StudyProcess(drill_home, folder, "d", "--new", str(CARDS)) for _ in range(2)]
    run_together(sessions, [keys[0], keys[0]], ANSWER * CARDS)

    database = drill_home / "drill.db"
    assert integrity(database) == "ok"
    # Both saw the same new cards; every answer of each is in the log.
    assert Counter(logged_keys(database)) == Counter(keys * 2)


# Two plain writers hammering the store: far more contention than people typing.
_WRITER = """
import sys
from datetime import UTC, datetime, timedelta
from drill.model import CardState, Rating
from drill.review.store import CardRecord, Review, Store

name, count = sys.argv[1], int(sys.argv[2])
now = datetime(2026, 3, 2, 9, tzinfo=UTC)
with Store.open() as store:
    for i in range(count):
        key = f"{name}/c{i}"
        due = now + timedelta(minutes=10)
        store.record(
            Review(key, now, Rating.GOOD, CardState.NEW, CardState.LEARNING, due),
            CardRecord(key, CardState.LEARNING, 1, 2.0, 5.0, due, now, 1),
        )
print("done")
"""


def test_two_writers_in_a_tight_loop_lose_nothing(drill_home):
    count = 150
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, name, str(count)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=drill_env(drill_home),
        )
        for name in ("w1", "w2")
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        assert out.decode().strip() == "done"
        assert b"locked" not in err
    database = drill_home / "drill.db"
    assert integrity(database) == "ok"
    logged = logged_keys(database)
    assert len(logged) == 2 * count
    assert len(set(logged)) == 2 * count


def test_two_processes_upgrading_one_old_database(drill_home, tmp_path):
    """Both back up and open it; exactly one applies each migration; no error."""
    database = drill_home / "drill.db"
    db = sqlite3.connect(database, isolation_level=None)
    m001_initial(db)
    db.execute("INSERT INTO migrations VALUES ('m001_initial', '2026-01-01T00:00:00+00:00')")
    db.execute(f"PRAGMA application_id = {0x44524C4C}")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute(
        "INSERT INTO review_log (key, reviewed_at, rating, state_before, state_after, due_after)"
        " VALUES ('d/a', 1767258000000, 3, 0, 1, 1767258600000)"
    )
    db.close()
    folder = tmp_path / "decks"
    keys = write_deck(folder, "d", 3)
    procs = [StudyProcess(drill_home, folder, "d") for _ in range(2)]
    run_together(procs, [keys[0]] * 2, "")

    assert integrity(database) == "ok"
    db = sqlite3.connect(database)
    applied = [row[0] for row in db.execute("SELECT name FROM migrations")]
    db.close()
    assert applied == [step.__name__ for step in MIGRATIONS]
    assert logged_keys(database) == ["d/a"]
    assert any(copy.reason == "before-migration" for copy in list_backups(drill_home / "backups"))


def test_four_sessions_on_the_same_cards_give_the_replayed_schedule(drill_home, tmp_path):
    """Each answer is computed from the card's row inside the transaction that records it,
    so four sessions answering the same 20 cards at once leave every card as if its
    reviews had been made one after another (they each ended with reps=1 before)."""
    from drill.home.config import load_config
    from drill.model import Rating
    from drill.review.scheduler import Scheduler
    from drill.review.store import CardRecord

    cards = 20
    folder = tmp_path / "decks"
    keys = write_deck(folder, "d", cards)
    with Store(drill_home / "drill.db"):
        pass
    grades = "3432"  # each session its own grade: easy moves a card to review at once
    sessions = [StudyProcess(drill_home, folder, "d", "--new", str(cards)) for _ in grades]
    for session in sessions:
        session.wait_for_card(keys[0])
    for session, grade in zip(sessions, grades, strict=True):
        session.type(f"\n{grade}\n" * cards)
    for session in sessions:
        code, screen, stderr = session.finish("q\n")
        assert code == 0, stderr
        assert "error" not in (screen + stderr).lower()

    database = drill_home / "drill.db"
    assert integrity(database) == "ok"
    scheduler = Scheduler(load_config())
    with Store(database) as store:
        assert len(store.reviews()) == cards * len(grades)
        for key in keys:
            replayed = CardRecord(key)
            for review in sorted(store.reviews(key), key=lambda review: review.id):
                replayed = scheduler.review(replayed, Rating(review.rating), review.reviewed_at)
            stored = store.card(key)
            assert stored is not None and stored.reps == len(grades)
            assert (stored.state, stored.step, stored.reps, stored.lapses) == (
                replayed.state,
                replayed.step,
                replayed.reps,
                replayed.lapses,
            )
            assert stored.stability == pytest.approx(replayed.stability, rel=1e-12)
            assert stored.difficulty == pytest.approx(replayed.difficulty, rel=1e-12)
            # Times are kept to the millisecond: the replay rounds at another point.
            assert abs((stored.due - replayed.due).total_seconds()) <= 0.002
