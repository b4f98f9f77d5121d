"""`drill log export`: the review history as a revlog CSV for FSRS tools, or as JSON lines."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from export_samples import write_deck_folder
from typer.testing import CliRunner

from drill.cli import app
from drill.decks.index import load_index
from drill.decks.loader import load_collection
from drill.exchange.revlog import REVLOG_COLUMNS, LogFormat, card_number, write_log
from drill.model import CardState, Rating
from drill.review.store import CardRecord, Review, Store, to_ms

runner = CliRunner()
T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)

RENAMED_DECK = """\
id: ml
title: Machine learning
cards:
  - id: relu
    was: [rectifier]
    q: What is ReLU?
    a: max(0, x)
"""


def review(key, minutes, rating, before, duration=4200):
    at = T0 + timedelta(minutes=minutes)
    return Review(
        key=key,
        reviewed_at=at,
        rating=rating,
        state_before=before,
        state_after=CardState.REVIEW,
        due_after=at + timedelta(days=1),
        duration_ms=duration,
    )


def record_history():
    """Four reviews, the last one undone; one under a card's old id."""
    with Store.open() as store:
        for item in (
            review("ml/rectifier", 0, Rating.AGAIN, CardState.NEW),
            review("ml/relu", 10, Rating.GOOD, CardState.LEARNING, duration=None),
            review("ml/other", 20, Rating.EASY, CardState.NEW),
        ):
            store.record(item, CardRecord(key=item.key, state=CardState.REVIEW))
        last = review("ml/relu", 30, Rating.HARD, CardState.REVIEW)
        undone_id = store.record(last, CardRecord(key=last.key, state=CardState.REVIEW))
        store.undo(undone_id, T0 + timedelta(minutes=31))


def test_csv_has_the_revlog_columns_and_leaves_undone_reviews_out(tmp_path):
    record_history()
    folder = write_deck_folder(tmp_path, RENAMED_DECK)
    out = tmp_path / "revlog.csv"
    result = runner.invoke(app, ["log", "export", "-o", str(out), "--decks", str(folder)])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Wrote 3 reviews to {out}.\n"

    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert tuple(rows[0]) == REVLOG_COLUMNS
    relu = str(card_number("ml/relu"))
    assert rows == [
        {
            "card_id": relu,  # logged as ml/rectifier, the card's old id
            "review_time": str(to_ms(T0)),
            "review_rating": "1",
            "review_state": "0",
            "review_duration": "4200",
        },
        {
            "card_id": relu,
            "review_time": str(to_ms(T0 + timedelta(minutes=10))),
            "review_rating": "3",
            "review_state": "1",
            "review_duration": "",
        },
        {
            "card_id": str(card_number("ml/other")),
            "review_time": str(to_ms(T0 + timedelta(minutes=20))),
            "review_rating": "4",
            "review_state": "0",
            "review_duration": "4200",
        },
    ]


def test_jsonl_keeps_every_review_with_undone_ones_flagged():
    record_history()
    result = runner.invoke(app, ["log", "export", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["key"], r["rating"], r["undone"]) for r in records] == [
        ("ml/rectifier", 1, False),
        ("ml/relu", 3, False),
        ("ml/other", 4, False),
        ("ml/relu", 2, True),
    ]
    assert records[1]["card_id"] == card_number("ml/relu")
    assert result.stderr == "Wrote 4 reviews to standard output.\n"


def test_card_numbers_are_stable_positive_and_distinct():
    assert card_number("ml/relu") == card_number("ml/relu")
    assert card_number("ml/relu") != card_number("ml/relu2")
    assert 0 < card_number("ml/relu") < 2**48


def test_an_existing_log_file_is_kept_without_force(tmp_path):
    out = tmp_path / "log.jsonl"
    out.write_text("mine\n")
    result = runner.invoke(app, ["log", "export", "-o", str(out)])
    assert result.exit_code == 1
    assert out.read_text() == "mine\n"
    forced = runner.invoke(app, ["log", "export", "-o", str(out), "--force"])
    assert forced.exit_code == 0
    assert out.read_text() == ""  # jsonl from the suffix, and no reviews yet


def _reference_csv(store, renames):
    """The CSV as the first version wrote it: a Review per row, csv.writer, a hash each."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(REVLOG_COLUMNS)
    for r in store.iter_reviews():
        key = renames.get(r.key, r.key)
        duration = "" if r.duration_ms is None else r.duration_ms
        writer.writerow(
            [card_number(key), to_ms(r.reviewed_at), int(r.rating), int(r.state_before), duration]
        )
    return buffer.getvalue()


def test_the_streamed_csv_is_the_row_by_row_one(store):
    """Chunks of SQLite-written text, keys hashed once: the same bytes as a Review per row."""
    history = []
    for n in range(60):
        key = f"ml/{['relu', 'rectifier', 'other', 'gelu'][n % 4]}"
        at = T0 + timedelta(minutes=n * 7 % 50, seconds=n)  # out of insertion order
        item = review(key, 0, Rating(1 + n % 4), CardState(n % 4), None if n % 5 else 1234)
        item = Review(**{**item.__dict__, "reviewed_at": at, "due_after": at})
        history.append((item, CardRecord(key=key, state=CardState.REVIEW)))
    store.record_many(history)
    store.undo(60, T0 + timedelta(hours=2))
    renames = {"ml/rectifier": "ml/relu"}
    written: list[str] = []
    count = write_log(store, LogFormat.CSV, written.append, renames)
    assert "".join(written) == _reference_csv(store, renames)
    assert count == 59
    columns = ("reviewed_at", "duration_ms")
    chunks = list(store.log_text(columns, chunk=7))
    assert [(len(keys), len(values)) for keys, values in chunks] == [(7, 7)] * 8 + [(3, 3)]
    whole = next(store.log_text(columns))
    assert [row for keys, values in chunks for row in zip(keys, values, strict=True)] == list(
        zip(*whole, strict=True)
    )


def test_reviews_of_one_millisecond_are_split_across_chunks_in_id_order(store):
    """Chunks are ranges of (time, id): a run of equal times may span a chunk edge."""
    reviews = [review(f"ml/c{n}", 0, Rating.GOOD, CardState.NEW, duration=n) for n in range(10)]
    store.record_many((item, CardRecord(key=item.key)) for item in reversed(reviews))
    chunks = list(store.log_text(["id", "duration_ms"], chunk=3))
    assert [keys for keys, _ in chunks] == [
        ["ml/c9", "ml/c8", "ml/c7"],
        ["ml/c6", "ml/c5", "ml/c4"],
        ["ml/c3", "ml/c2", "ml/c1"],
        ["ml/c0"],
    ]
    assert [line for _, values in chunks for line in values] == [
        f"{n + 1},{9 - n}" for n in range(10)
    ]


def test_the_log_text_takes_only_integer_columns(store):
    with pytest.raises(ValueError, match="answer"):
        next(store.log_text(["reviewed_at", "answer"]))
    with pytest.raises(ValueError):
        next(store.log_text([]))


def test_renames_come_from_the_study_index_as_from_the_cards(tmp_path):
    folder = write_deck_folder(tmp_path, RENAMED_DECK)
    Store.open().close()  # a home in use keeps a deck cache
    full = load_collection([folder])
    for _ in range(2):  # parsed, then read back by its header alone
        assert load_index([folder]).renames() == full.renames() == {"ml/rectifier": "ml/relu"}
