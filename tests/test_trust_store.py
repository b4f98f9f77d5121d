"""The store under hostile and careless use: restores of plausible-but-broken files, emptied
and newer databases, undo after a restore, bad homes, a read-only file. Nothing recorded is
ever lost, and each problem is one `Error:` line naming the file."""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from study_process import drill_env, write_deck
from typer.testing import CliRunner

from drill.cli import app
from drill.errors import StoreError
from drill.home.paths import pin_home
from drill.model import Card, CardState, Rating
from drill.review.backup import list_backups
from drill.review.restore import restore
from drill.review.session import Session
from drill.review.store import MIGRATIONS, CardRecord, Review, Store

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def add_reviews(store: Store, keys: list[str], at: datetime = T0) -> None:
    for key in keys:
        due = at + timedelta(days=2)
        store.record(
            Review(key, at, Rating.GOOD, CardState.NEW, CardState.REVIEW, due),
            CardRecord(key, CardState.REVIEW, None, 2.0, 5.0, due, at, 1),
        )


def review_keys(path: Path) -> list[str]:
    db = sqlite3.connect(path)
    try:
        return [row[0] for row in db.execute("SELECT key FROM review_log ORDER BY id")]
    except sqlite3.DatabaseError:
        return []
    finally:
        db.close()


def home_with_reviews(home: Path, keys: list[str]) -> Path:
    database = home / "drill.db"
    with Store(database) as store:
        add_reviews(store, keys)
    return database


def plausible_copy_without(database: Path, target: Path, table: str) -> Path:
    """A drill database by every outward sign (application id, migrations table, integrity
    ok) that lacks one table."""
    shutil.copy(database, target)
    db = sqlite3.connect(target, isolation_level=None)
    db.execute("PRAGMA journal_mode = DELETE")
    if table in ("review_log", "review_retention"):
        db.execute("DROP TRIGGER review_retention_fill")
    db.execute(f"DROP TABLE {table}")
    db.close()
    return target


def drill(*args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), input=input)


KEYS = ["d/a", "d/b", "d/c"]


# 2. Restore checks the candidate fully; rotation never loses the history


def test_restore_refuses_a_plausible_file_that_lacks_a_table(drill_home, tmp_path):
    database = home_with_reviews(drill_home, KEYS)
    broken = plausible_copy_without(database, tmp_path / "broken.db", "card_state")
    result = drill("restore", str(broken))
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {broken} is not a usable drill database (it lacks table card_state, "
        "index card_state_deck_due, index card_state_due and 2 more); nothing was changed\n"
    )
    assert review_keys(database) == KEYS
    assert list_backups(drill_home / "backups") == []  # not even a safety copy was needed


def test_restore_refuses_a_file_failing_the_integrity_check(drill_home, tmp_path):
    database = home_with_reviews(drill_home, KEYS)
    damaged = tmp_path / "damaged.db"
    shutil.copy(database, damaged)
    db = sqlite3.connect(damaged, isolation_level=None)
    db.execute("PRAGMA journal_mode = DELETE")
    db.execute("PRAGMA writable_schema = ON")  # an index that lists no rows: a real defect
    db.execute(
        "UPDATE sqlite_master SET sql = replace(sql, 'key', 'rating') WHERE name = 'review_log_key'"
    )
    db.close()
    with pytest.raises(StoreError, match="nothing was changed"):
        restore(damaged, database)
    assert review_keys(database) == KEYS


def test_a_home_survives_a_broken_restore_and_twenty_later_runs(drill_home, tmp_path):
    database = home_with_reviews(drill_home, KEYS)
    drill("backup")
    broken = plausible_copy_without(database, tmp_path / "broken.db", "review_log")
    assert drill("restore", str(broken)).exit_code == 1
    for _ in range(20):
        assert drill("due").exit_code == 0
        assert drill("backup").exit_code == 0  # each copy rotates the folder
    assert review_keys(database) == KEYS
    copies = list_backups(drill_home / "backups")
    assert len(copies) == 7
    assert all(review_keys(copy.path) == KEYS for copy in copies)


def test_a_killed_restore_leaves_the_old_or_the_new_database(drill_home, tmp_path):
    database = home_with_reviews(drill_home, KEYS)
    other = tmp_path / "other.db"
    with Store(other) as store:
        add_reviews(store, ["x/1", "x/2"])
    rng = random.Random(11)
    for _ in range(6):
        proc = subprocess.Popen(
            [sys.executable, "-m", "drill", "restore", str(other)],
            env=drill_env(drill_home),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.2, 0.8))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert review_keys(database) in (KEYS, ["x/1", "x/2"])
    # Whatever the last state, the user's reviews are still in a backup or the database.
    held = [review_keys(copy.path) for copy in list_backups(drill_home / "backups")]
    assert KEYS in [*held, review_keys(database)]


def test_an_emptied_database_never_pushes_out_the_backup_with_history(drill_home):
    database = home_with_reviews(drill_home, KEYS)
    drill("backup")
    (rich,) = list_backups(drill_home / "backups")
    database.unlink()  # deleted by mistake: the next command that writes starts afresh
    for _ in range(20):
        Store.open().close()  # as `drill study` opens it (`drill due` makes no database)
        assert drill("backup").exit_code == 0
    assert rich in list_backups(drill_home / "backups")
    assert review_keys(rich.path) == KEYS
    doctor = drill("doctor")
    assert doctor.exit_code == 1
    assert f"but the backup {rich.path.name} holds 3: history may have been lost" in doctor.stdout
    assert f"drill restore {rich.path.name}" in doctor.stdout


def test_an_empty_database_file_is_reported_by_doctor(drill_home):
    database = home_with_reviews(drill_home, KEYS)
    drill("backup")
    database.write_bytes(b"")
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    assert drill("due").exit_code == 0
    doctor = drill("doctor")
    assert doctor.exit_code == 1
    assert "holds 0 reviews, but the backup" in doctor.stdout


def test_a_database_that_cannot_be_migrated_is_left_alone_and_never_copied(drill_home, tmp_path):
    database = home_with_reviews(drill_home, KEYS)
    drill("backup")
    good = list_backups(drill_home / "backups")
    # Plausible, but its migrations stop at the first and the log it would upgrade is gone.
    db = sqlite3.connect(database, isolation_level=None)
    db.execute("DELETE FROM migrations WHERE name != 'm001_initial'")
    db.execute("DROP TRIGGER review_retention_fill")
    db.execute("DROP TABLE review_retention")
    db.execute("DROP TABLE undone")
    db.execute("DROP TABLE review_log")
    db.close()
    before = database.read_bytes()
    for _ in range(8):
        result = drill("due")
        assert result.exit_code == 1
        assert result.stderr.count("\n") == 1
        assert result.stderr.startswith(f"Error: {database} is not a usable drill database")
    assert database.read_bytes() == before
    assert list_backups(drill_home / "backups") == good


# 3 is in test_concurrency.py. 4. Undo takes back only this session's own review


def basic_cards(keys: list[str]) -> list[Card]:
    return [Card(key.split("/")[0], key.split("/")[1], q=f"{key}?", a="A.") for key in keys]


def test_undo_after_a_restore_refuses_a_review_of_another_card(drill_home, tmp_path):
    from drill.home.config import Config

    database = drill_home / "drill.db"
    other = tmp_path / "other.db"
    with Store(other) as store:  # its review 1 is of another card
        add_reviews(store, ["other/o1"])
    with Store(database) as store:
        session = Session(store, basic_cards(["d/a"]), Config(), clock=lambda: T0)
        card = session.next_card()
        assert session.answer(card, Rating.GOOD).review_id == 1
        restore(other, database)  # meanwhile, from another terminal
        with pytest.raises(StoreError, match="review 1 of d/a is not in"):
            session.undo()
        assert store.card("other/o1") is not None
        assert [review.key for review in store.reviews()] == ["other/o1"]


def test_undo_refuses_when_another_session_reviewed_the_card_since(drill_home):
    from drill.home.config import Config

    database = drill_home / "drill.db"
    cards = basic_cards(["d/a"])
    with Store(database) as one, Store(database) as two:
        first = Session(one, cards, Config(), clock=lambda: T0)
        second = Session(two, cards, Config(), clock=lambda: T0 + timedelta(seconds=5))
        first.answer(first.next_card(), Rating.GOOD)
        second.answer(second.next_card(), Rating.GOOD)
        with pytest.raises(StoreError, match="reviewed again since"):
            first.undo()
        assert one.card("d/a").reps == 2


# 6. A database or backup from a newer drill is refused


def newer(path: Path) -> Path:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("INSERT INTO migrations VALUES ('m099_future', '2027-01-01T00:00:00+00:00')")
    db.close()
    return path


def test_a_database_from_a_newer_drill_is_refused(drill_home):
    database = newer(home_with_reviews(drill_home, KEYS))
    result = drill("study")
    assert result.exit_code == 1
    known = len(MIGRATIONS)
    assert result.stderr == (
        f"Error: {database} was written by a newer drill (schema version {known + 1}, "
        f"m099_future; this drill knows up to version {known}, {MIGRATIONS[-1].__name__}). "
        "It was left untouched: upgrade drill to use it.\n"
    )


def test_a_backup_from_a_newer_drill_is_refused_by_restore(drill_home, tmp_path):
    database = home_with_reviews(drill_home, KEYS)
    future = tmp_path / "future.db"
    with Store(future) as store:
        add_reviews(store, ["f/1"])
    newer(future)
    result = drill("restore", str(future))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {future} was written by a newer drill (schema")
    assert result.stderr.endswith("); nothing was changed\n")
    assert review_keys(database) == KEYS


# 10. Bad homes


@pytest.mark.parametrize("command", ["due", "study", "stats"])
def test_drill_home_pointing_at_a_file_is_one_error(drill_home, tmp_path, monkeypatch, command):
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x")
    monkeypatch.setenv("DRILL_HOME", str(a_file))
    result = drill(command)
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {a_file} is not a folder: drill keeps its database there (check DRILL_HOME)\n"
    )
    doctor = drill("doctor")
    assert doctor.exit_code == 1
    assert f"error    database  {a_file} is a file, but drill keeps its data" in doctor.stdout


@pytest.mark.parametrize("command", ["due", "study", "stats"])
def test_a_folder_named_like_the_database_is_one_error(drill_home, command):
    (drill_home / "drill.db").mkdir()
    result = drill(command)
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {drill_home / 'drill.db'} is a folder, not a database file; "
        "move it away or rename it\n"
    )
    doctor = drill("doctor")
    assert doctor.exit_code == 1
    assert "is a folder, not a database file." in doctor.stdout


def test_a_relative_drill_home_is_resolved_once_at_start(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DRILL_HOME", "rel-home")
    pin_home()
    monkeypatch.chdir("/")
    assert os.environ["DRILL_HOME"] == str(tmp_path / "rel-home")


# 12. A database that cannot be written is said before the first card


def test_a_read_only_database_is_refused_before_the_first_card(drill_home, tmp_path, monkeypatch):
    folder = tmp_path / "decks"
    write_deck(folder, "d", 2)
    home_with_reviews(drill_home, [])
    opened = Store.__init__

    def read_only(self, path, **options):  # as a file without write permission behaves
        opened(self, path, **options)  # (tests run as root)
        self.db.close()
        self.db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, isolation_level=None)

    monkeypatch.setattr(Store, "__init__", read_only)
    result = drill("study", "--decks", str(folder), input="\n3\n")
    assert result.exit_code == 1
    assert "Question" not in result.stdout
    assert result.stderr == (
        f"Error: {drill_home / 'drill.db'} cannot be written (attempt to write a readonly "
        "database); no review would be saved\n"
    )
