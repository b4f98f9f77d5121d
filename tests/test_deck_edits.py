"""Editing decks never loses history: removed cards are kept (orphaned), renamed ones follow.

A card's history is keyed by `deck/card`. A card renamed with `was: old-id` takes its
schedule to the new key; the review log is never rewritten, its old rows are linked instead.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from drill.cli import app
from drill.decks.loader import load_sources
from drill.model import CardState, Rating
from drill.review.store import CardRecord, Review, Store

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def review(store: Store, key: str, at: datetime = T0, reps: int = 1) -> None:
    due = at + timedelta(days=3)
    store.record(
        Review(key, at, Rating.GOOD, CardState.LEARNING, CardState.REVIEW, due),
        CardRecord(key, CardState.REVIEW, None, 3.0, 5.0, due, at, reps),
    )


def log_rows(store: Store) -> list[tuple]:
    return store.db.execute("SELECT * FROM review_log ORDER BY id").fetchall()


def test_a_rename_moves_the_schedule_and_keeps_the_log_as_written(store):
    review(store, "d/old")
    review(store, "d/old", T0 + timedelta(days=3), reps=2)
    log = log_rows(store)

    assert store.follow_renames({"d/old": "d/new"}) == ["d/old"]
    assert store.card("d/old") is None
    record = store.card("d/new")
    assert record is not None and record.key == "d/new" and record.reps == 2
    assert log_rows(store) == log  # append-only: nothing rewritten
    assert [r.key for r in store.reviews("d/new")] == ["d/old", "d/old"]
    assert store.follow_renames({"d/old": "d/new"}) == []  # already linked


def test_renames_without_history_link_nothing(store):
    assert store.follow_renames({"d/never-seen": "d/new"}) == []
    assert store.renamed() == {}


def test_history_follows_a_chain_of_renames(store):
    review(store, "d/a")
    store.follow_renames({"d/a": "d/b"})
    review(store, "d/b", T0 + timedelta(days=3), reps=2)
    store.follow_renames({"d/b": "d/c"})  # the deck now lists only `was: b`
    assert [r.key for r in store.reviews("d/c")] == ["d/a", "d/b"]
    assert store.card("d/c").reps == 2


def test_renaming_back_makes_no_cycle(store):
    review(store, "d/a")
    store.follow_renames({"d/a": "d/b"})
    store.follow_renames({"d/b": "d/a"})
    assert store.renamed() == {"d/b": "d/a"}
    assert store.card("d/a") is not None and store.card("d/b") is None
    assert store.history_keys("d/a") == ["d/a", "d/b"]


def test_a_new_key_already_studied_keeps_its_own_schedule(store):
    review(store, "d/old")
    review(store, "d/new", T0 + timedelta(hours=1), reps=5)
    store.follow_renames({"d/old": "d/new"})
    assert store.card("d/new").reps == 5
    assert len(store.reviews("d/new")) == 2


# Through the commands


def write(folder: Path, cards: str, name: str = "d.yaml", deck_id: str = "d") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"id: {deck_id}\ntitle: D\ncards:\n{cards}", encoding="utf-8")
    return path


CARD_A = "  - id: a\n    q: What is a?\n    a: A.\n"
CARD_B = "  - id: b\n    q: What is b?\n    a: B.\n"


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def study_all(decks: Path) -> None:
    result = CliRunner().invoke(app, ["study", "d", "--decks", str(decks)], input="\n4\n" * 2)
    assert result.exit_code == 0, result.output


def test_renamed_card_keeps_its_history_in_the_commands(drill_home, tmp_path):
    decks = tmp_path / "decks"
    write(decks, CARD_A + CARD_B)
    study_all(decks)
    write(decks, CARD_A + "  - id: b2\n    was: b\n    q: What is b?\n    a: B.\n")

    shown = run("show", "d/b2", "--decks", str(decks))
    assert shown.exit_code == 0, shown.output
    assert "easy" in shown.output and "state: review" in shown.output
    due = run("due", "d", "--decks", str(decks))
    assert "Nothing" not in due.output
    with Store(drill_home / "drill.db") as store:
        assert store.card("d/b2").state is CardState.REVIEW  # not new again
    doctor = run("doctor", "--decks", str(decks))
    assert "(orphaned)" not in doctor.output


def test_removed_card_is_orphaned_then_reattached(drill_home, tmp_path):
    decks = tmp_path / "decks"
    write(decks, CARD_A + CARD_B)
    study_all(decks)
    write(decks, CARD_A)

    doctor = run("doctor", "--decks", str(decks))
    assert doctor.exit_code == 0, doctor.output  # a note, nothing the user must do
    assert "1 card with history in no deck (orphaned): d/b." in doctor.output
    with Store(drill_home / "drill.db") as store:
        assert store.card("d/b") is not None  # still there

    write(decks, CARD_A + CARD_B)
    doctor = run("doctor", "--decks", str(decks))
    assert "(orphaned)" not in doctor.output
    shown = run("show", "d/b", "--decks", str(decks))
    assert "easy" in shown.output


def test_two_files_claiming_one_deck_id_name_both(tmp_path):
    first = write(tmp_path / "one", CARD_A)
    second = write(tmp_path / "two", CARD_B, name="other.yaml")
    collection = load_sources([tmp_path / "one", tmp_path / "two"])
    (error,) = collection.errors
    assert str(first) in str(error) and str(second) in str(error)
    assert [deck.path for deck in collection.decks] == [first]

    linted = run("lint", str(tmp_path / "one"), str(tmp_path / "two"))
    assert linted.exit_code == 1
    assert str(first) in linted.output and str(second) in linted.output


def test_the_review_log_is_never_updated_by_a_rename(drill_home, tmp_path):
    decks = tmp_path / "decks"
    write(decks, CARD_A + CARD_B)
    study_all(decks)
    db = sqlite3.connect(drill_home / "drill.db")
    before = db.execute("SELECT * FROM review_log ORDER BY id").fetchall()
    db.close()
    write(decks, "  - id: a2\n    was: a\n    q: What is a?\n    a: A.\n" + CARD_B)
    run("due", "--decks", str(decks))
    db = sqlite3.connect(drill_home / "drill.db")
    assert db.execute("SELECT * FROM review_log ORDER BY id").fetchall() == before
    assert db.execute("SELECT old_key, new_key FROM renamed").fetchall() == [("d/a", "d/a2")]
    db.close()
