"""Backups: SQLite backup API copies, checked, rotated, daily; restore refuses foreign files."""

from __future__ import annotations

import os
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drill.cli import app
from drill.errors import StoreError
from drill.model import CardState, Rating
from drill.review import backup
from drill.review.backup import KEEP, Reason, daily_backup, list_backups, make_backup
from drill.review.restore import restore
from drill.review.store import CardRecord, Review, Store

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def add_review(store: Store, key: str, at: datetime = T0) -> None:
    due = at + timedelta(days=2)
    store.record(
        Review(key, at, Rating.GOOD, CardState.NEW, CardState.REVIEW, due),
        CardRecord(key, CardState.REVIEW, None, 2.0, 5.0, due, at, 1),
    )


def keys_in(path: Path) -> list[str]:
    db = sqlite3.connect(path)
    try:
        return [row[0] for row in db.execute("SELECT key FROM review_log ORDER BY id")]
    finally:
        db.close()


@pytest.fixture
def database(tmp_path) -> Path:
    path = tmp_path / "drill.db"
    with Store(path) as store:
        add_review(store, "d/a")
    return path


def test_a_backup_is_a_sound_self_contained_copy(database, tmp_path):
    with Store(database) as store:
        copy = make_backup(store.db, tmp_path / "backups", Reason.MANUAL, T0)
    assert copy.path.name == "drill-20260302T120000Z-manual.db"
    assert keys_in(copy.path) == ["d/a"]
    assert backup.database_problem(copy.path, thorough=True) is None
    db = sqlite3.connect(copy.path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    db.close()
    assert sorted(p.name for p in copy.path.parent.iterdir()) == [copy.path.name]


def test_a_backup_holds_only_committed_reviews(database, tmp_path):
    writer = sqlite3.connect(database, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute(
        "INSERT INTO review_log (key, reviewed_at, rating, state_before, state_after, due_after)"
        " VALUES ('d/uncommitted', 0, 3, 0, 1, 0)"
    )
    with Store(database) as store:  # another connection, while the write is open
        copy = make_backup(store.db, tmp_path / "backups", Reason.MANUAL, T0)
    writer.execute("COMMIT")
    writer.close()
    assert keys_in(copy.path) == ["d/a"]


def test_the_newest_seven_are_kept_and_other_files_left_alone(database, tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "my-notes.txt").write_text("keep me")
    with Store(database) as store:
        made = [
            make_backup(store.db, folder, Reason.DAILY, T0 + timedelta(days=i)) for i in range(9)
        ]
    assert [b.path for b in list_backups(folder)] == [b.path for b in made[-KEEP:]]
    assert (folder / "my-notes.txt").read_text() == "keep me"


def test_copies_in_the_same_second_get_their_own_names(database, tmp_path):
    with Store(database) as store:
        first = make_backup(store.db, tmp_path / "b", Reason.MANUAL, T0)
        second = make_backup(store.db, tmp_path / "b", Reason.MANUAL, T0)
    assert first.path != second.path
    assert [b.path for b in list_backups(tmp_path / "b")] == [first.path, second.path]


def test_leftovers_of_an_interrupted_copy_are_cleaned(database, tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    stale = folder / ".partial-123-abc.db"
    fresh = folder / ".partial-456-def.db"  # may belong to a copy running right now
    stale.write_bytes(b"half a copy")
    fresh.write_bytes(b"in progress")
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))
    with Store(database) as store:
        make_backup(store.db, folder, Reason.MANUAL, T0)
    assert not stale.exists()
    assert fresh.exists()


# Daily backups


def test_daily_backup_once_per_day_and_only_with_history(tmp_path):
    path = tmp_path / "drill.db"
    folder = tmp_path / "backups"
    with Store(path) as store:
        assert daily_backup(path, store.db, T0) is None  # nothing to lose yet
        add_review(store, "d/a")
        assert daily_backup(path, store.db, T0) is not None
        assert daily_backup(path, store.db, T0 + timedelta(minutes=5)) is None
        assert daily_backup(path, store.db, T0 + timedelta(days=1)) is not None
    assert [b.reason for b in list_backups(folder)] == ["daily", "daily"]


def test_opening_the_users_database_makes_the_days_backup(drill_home):
    with Store.open() as store:
        add_review(store, "d/a")
    assert list_backups(drill_home / "backups") == []  # it was empty when opened
    Store.open().close()
    Store.open().close()
    assert [b.reason for b in list_backups(drill_home / "backups")] == ["daily"]


def test_a_failing_daily_backup_does_not_stop_studying(drill_home):
    with Store.open() as store:
        add_review(store, "d/a")
    (drill_home / "backups").write_text("a file where the folder should be")
    with Store.open() as store:
        assert [r.key for r in store.reviews()] == ["d/a"]


def test_a_damaged_database_is_never_copied(drill_home, tmp_path):
    with Store.open() as store:
        add_review(store, "d/a")
        for i in range(300):  # enough pages for damage to land in a table, not the header
            add_review(store, f"d/c{i}")
    folder = drill_home / "backups"
    with Store(drill_home / "drill.db") as store:
        for day in range(1, KEEP + 1):
            make_backup(store.db, folder, Reason.DAILY, T0 - timedelta(days=day))
    before = list_backups(folder)
    damage(drill_home / "drill.db")

    with pytest.raises(StoreError, match="damaged"):
        Store.open()
    assert list_backups(folder) == before  # all the good copies are still there


def damage(path: Path) -> None:
    """Overwrite two pages in the middle of the file with bytes no page can start with."""
    size = path.stat().st_size
    with path.open("r+b") as handle:
        handle.seek(size // 2 - (size // 2) % 4096)
        handle.write(b"\xa5" * 8192)


# Restore


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"my shopping list\n", "not an SQLite database"),
        (None, "another program"),
        (b"", "not an SQLite database"),
    ],
)
def test_restore_refuses_what_is_not_a_drill_database(database, tmp_path, content, problem):
    candidate = tmp_path / "candidate.db"
    if content is None:
        db = sqlite3.connect(candidate)
        db.execute("CREATE TABLE photos (id INTEGER)")
        db.commit()
        db.close()
    else:
        candidate.write_bytes(content)
    before = database.read_bytes()
    with pytest.raises(StoreError, match=problem):
        restore(candidate, database)
    assert database.read_bytes() == before
    assert list_backups(tmp_path / "backups") == []


def test_restore_refuses_a_missing_file_and_the_database_itself(database):
    with pytest.raises(StoreError, match="no such file"):
        restore(database.parent / "nope.db", database)
    with pytest.raises(StoreError, match="the database itself"):
        restore(database, database)


def test_restore_backs_up_the_current_database_first(database, tmp_path):
    folder = tmp_path / "backups"
    with Store(database) as store:
        old = make_backup(store.db, folder, Reason.MANUAL, T0)
        add_review(store, "d/b")
        running = Store(database)  # a session still open during the restore

        restored = restore(old.path, database)

        assert restored.safety_copy is not None
        assert keys_in(restored.safety_copy.path) == ["d/a", "d/b"]
        assert [r.key for r in running.reviews()] == ["d/a"]  # it sees the restored data
        running.close()
    assert keys_in(database) == ["d/a"]
    assert backup.database_problem(database, thorough=True) is None


def test_restore_over_a_damaged_database_moves_it_aside(drill_home, tmp_path):
    database = drill_home / "drill.db"
    with Store(database) as store:
        add_review(store, "d/a")
        good = make_backup(store.db, drill_home / "backups", Reason.MANUAL, T0)
    database.write_bytes(b"SQLite format 3\x00" + os.urandom(8000))

    restored = restore(good.path, database)
    assert restored.moved_aside is not None and restored.moved_aside.exists()
    assert keys_in(database) == ["d/a"]


def test_restore_without_a_database_and_of_an_old_schema(tmp_path):
    old = tmp_path / "old.db"
    db = sqlite3.connect(old, isolation_level=None)
    from drill.review.store import APPLICATION_ID, m001_initial

    m001_initial(db)
    db.execute("INSERT INTO migrations VALUES ('m001_initial', '2026-01-01T00:00:00+00:00')")
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.close()
    database = tmp_path / "home" / "drill.db"
    restore(old, database)
    with Store(database) as store:
        assert "renamed" in {row[0] for row in store.db.execute("SELECT name FROM sqlite_master")}


# The commands


def test_backup_and_restore_commands(drill_home):
    runner = CliRunner()
    with Store.open() as store:
        add_review(store, "d/a")
    made = runner.invoke(app, ["backup"])
    assert made.exit_code == 0, made.output
    (copy,) = list_backups(drill_home / "backups")
    assert made.output == f"Backed up {drill_home / 'drill.db'} to {copy.path}\n"
    listed = runner.invoke(app, ["backup", "--list"])
    assert copy.path.name in listed.output and "manual" in listed.output

    with Store.open() as store:
        add_review(store, "d/b")
    restored = runner.invoke(app, ["restore", copy.path.name])  # a name in the backups folder
    assert restored.exit_code == 0, restored.output
    assert "Saved the database as it was" in restored.output
    assert keys_in(drill_home / "drill.db") == ["d/a"]


def test_backup_command_without_a_database(drill_home):
    result = CliRunner().invoke(app, ["backup"])
    assert result.exit_code == 1
    assert "nothing to back up" in result.stderr
    assert not (drill_home / "drill.db").exists()


def test_names_read_back_as_the_times_they_were_made_and_impossible_ones_are_ignored(tmp_path):
    made = datetime(2026, 3, 2, 9, 5, 7, tzinfo=UTC)
    (tmp_path / f"drill-{made:%Y%m%dT%H%M%SZ}-daily-2.db").write_bytes(b"")
    (tmp_path / "drill-20261302T090000Z-daily.db").write_bytes(b"")  # month 13
    (tmp_path / "drill-20260230T090000Z-manual.db").write_bytes(b"")  # 30 February
    [only] = list_backups(tmp_path)
    assert (only.made_at, only.reason, only.number) == (made, "daily", 2)
