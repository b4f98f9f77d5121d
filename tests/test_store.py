"""The SQLite store: append-only log, undo, suspension, refusing foreign files, migrations."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from drill.errors import StoreError
from drill.model import CardState, Rating
from drill.review.store import CardRecord, Review, Store, schema_version

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def review(key: str, at: datetime, rating: Rating = Rating.GOOD, **extra) -> Review:
    return Review(
        key=key,
        reviewed_at=at,
        rating=rating,
        state_before=CardState.NEW,
        state_after=CardState.LEARNING,
        due_after=at + timedelta(minutes=10),
        **extra,
    )


def learning(key: str, at: datetime) -> CardRecord:
    return CardRecord(key, CardState.LEARNING, 1, 2.3, 5.1, at + timedelta(minutes=10), at, 1)


def test_record_and_read_back(store: Store) -> None:
    rid = store.record(review("d/a", T0, seed=7, answer="0.5", correct=True), learning("d/a", T0))
    assert rid > 0
    assert store.card("d/a") == learning("d/a", T0)
    (row,) = store.reviews("d/a")
    assert (row.rating, row.seed, row.answer, row.correct) == (Rating.GOOD, 7, "0.5", True)
    assert row.reviewed_at == T0


def test_settings_of_the_connection(store: Store) -> None:
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
    assert schema_version(store.db)[0] == "m001_initial"


def test_undo_restores_state_and_keeps_the_row(store: Store) -> None:
    first = store.record(review("d/a", T0), learning("d/a", T0))
    later = T0 + timedelta(minutes=10)
    second = store.record(review("d/a", later, Rating.AGAIN), learning("d/a", later))
    assert store.undo(second, later) == "d/a"
    assert store.card("d/a") == learning("d/a", T0)
    assert [r.id for r in store.reviews("d/a")] == [first]
    assert [r.undone for r in store.reviews("d/a", include_undone=True)] == [False, True]
    store.undo(first, later)
    assert store.card("d/a") is None  # back to new
    with pytest.raises(StoreError, match="already undone"):
        store.undo(first, later)


def test_counts_since_ignore_undone_reviews(store: Store) -> None:
    rid = store.record(review("d/a", T0), learning("d/a", T0))
    store.record(review("d/b", T0), learning("d/b", T0))
    assert store.counts_since(T0 - timedelta(hours=1)) == (2, 0)
    store.undo(rid, T0)
    assert store.counts_since(T0 - timedelta(hours=1)) == (1, 0)
    assert store.counts_since(T0 + timedelta(hours=1)) == (0, 0)


def test_suspend_a_new_card(store: Store) -> None:
    assert store.set_suspended(["d/a"], True) == 1
    assert store.set_suspended(["d/a"], True) == 0
    record = store.card("d/a")
    assert record is not None and record.suspended and record.state is CardState.NEW
    store.set_suspended(["d/a"], False)
    assert not store.card("d/a").suspended


def test_a_foreign_file_is_refused_and_left_alone(tmp_path) -> None:
    path = tmp_path / "drill.db"
    path.write_bytes(b"these are my notes, not a database\n" * 10)
    with pytest.raises(StoreError, match="not a usable drill database"):
        Store(path)
    assert path.read_bytes().startswith(b"these are my notes")


def test_another_programs_sqlite_file_is_refused(tmp_path) -> None:
    path = tmp_path / "drill.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE photos (id INTEGER)")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="another program"):
        Store(path)


def test_reopening_keeps_everything(tmp_path) -> None:
    path = tmp_path / "drill.db"
    with Store(path) as store:
        store.record(review("d/a", T0), learning("d/a", T0))
    with Store(path) as store:
        assert len(store.reviews()) == 1
        assert store.integrity_check() == "ok"
