"""Store.record_many: many reviews in one transaction, the same rows as record() one by one."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from drill.model import CardState, Rating
from drill.review.store import CardRecord, Review, Store

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def history(seed: int, count: int) -> list[tuple[Review, CardRecord]]:
    """Reviews of a few cards, interleaved, each with the state it leaves its card in."""
    rng = random.Random(seed)
    reps: dict[str, int] = {}
    out = []
    for i in range(count):
        key = f"d/c{rng.randrange(4)}"
        at = T0 + timedelta(hours=i)
        state = rng.choice([CardState.LEARNING, CardState.REVIEW, CardState.RELEARNING])
        before = CardState.NEW if key not in reps else CardState.REVIEW
        reps[key] = reps.get(key, 0) + 1
        due = at + timedelta(days=rng.randrange(1, 30))
        rating = rng.choice(list(Rating))
        review = Review(key, at, rating, before, state, due, 1200, 3.5, 5.0, i, "0.5", i % 2 == 0)
        after = CardRecord(key, state, None, 3.5 + i, 5.0, due, at, reps[key], int(rating == 1))
        out.append((review, after))
    return out


def log_rows(store: Store) -> list[tuple]:
    return store.db.execute("SELECT * FROM review_log ORDER BY id").fetchall()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_record_many_writes_what_record_writes(tmp_path, seed):
    items = history(seed, 40)
    with Store(tmp_path / "one.db") as one, Store(tmp_path / "many.db") as many:
        one.record(*items[0])
        many.record(*items[0])  # a card with a state before the bulk load
        for item in items[1:]:
            one.record(*item)
        assert many.record_many(iter(items[1:])) == len(items) - 1
        assert log_rows(many) == log_rows(one)
        assert many.cards() == one.cards()
        retention = "SELECT * FROM review_retention ORDER BY review_id"
        assert many.db.execute(retention).fetchall() == one.db.execute(retention).fetchall()


def test_a_bulk_loaded_review_can_be_undone(tmp_path):
    items = history(4, 10)
    with Store(tmp_path / "drill.db") as store:
        store.record_many(items)
        last_id = log_rows(store)[-1][0]
        key = items[-1][0].key
        previous = next(after for review, after in reversed(items[:-1]) if review.key == key)
        assert store.undo(last_id, T0) == key
        assert store.card(key) == previous


def test_a_failure_midway_writes_nothing(tmp_path):
    def items():
        yield from history(5, 5)
        raise RuntimeError("source failed")

    with Store(tmp_path / "drill.db") as store:
        with pytest.raises(RuntimeError):
            store.record_many(items())
        assert log_rows(store) == [] and store.cards() == {}
