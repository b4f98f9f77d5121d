"""Upgrading a database made by the first release: history intact, a backup made first.

The fixture is built from a frozen copy of the first released schema, not from the code
that makes it today, so a later edit of an old migration cannot hide here.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drill.cli import app
from drill.errors import StoreError
from drill.model import CardState, Rating
from drill.review import store as store_module
from drill.review.backup import list_backups
from drill.review.store import APPLICATION_ID, MIGRATIONS, Store, m001_initial, schema_version

# The schema of release 0.1 (migration m001_initial), exactly as it shipped.
FIRST_RELEASED_SCHEMA = """
CREATE TABLE migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL);
CREATE TABLE card_state (
    key TEXT PRIMARY KEY,
    state INTEGER NOT NULL,
    step INTEGER,
    stability REAL,
    difficulty REAL,
    due INTEGER,
    last_review INTEGER,
    reps INTEGER NOT NULL DEFAULT 0,
    lapses INTEGER NOT NULL DEFAULT 0,
    suspended INTEGER NOT NULL DEFAULT 0,
    leech INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX card_state_due ON card_state (state, due);
CREATE TABLE review_log (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    reviewed_at INTEGER NOT NULL,
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 4),
    state_before INTEGER NOT NULL,
    state_after INTEGER NOT NULL,
    due_after INTEGER NOT NULL,
    duration_ms INTEGER,
    stability REAL,
    difficulty REAL,
    seed INTEGER,
    answer TEXT,
    correct INTEGER,
    previous TEXT
);
CREATE INDEX review_log_time ON review_log (reviewed_at);
CREATE INDEX review_log_key ON review_log (key, reviewed_at);
CREATE TABLE undone (
    review_id INTEGER PRIMARY KEY REFERENCES review_log (id),
    undone_at INTEGER NOT NULL
);
"""

DAY_MS = 86_400_000
T0 = 1_767_258_000_000  # 2026-01-01 09:00 UTC
REVIEWS = [
    # id, key, reviewed_at, rating, before, after, due_after, ms, S, D, seed, answer, correct
    (1, "old/relu", T0, 3, 0, 1, T0 + 600_000, 4200, 2.3, 5.1, None, None, None),
    (2, "old/relu", T0 + 600_000, 3, 1, 2, T0 + 3 * DAY_MS, 3100, 3.2, 5.0, None, None, None),
    (3, "compute/grad", T0, 1, 0, 1, T0 + 60_000, 9000, 0.4, 7.0, 1234, "0.25", 0),
    (4, "compute/grad", T0 + 60_000, 3, 1, 1, T0 + 660_000, 8000, 0.6, 6.9, 99, "-1/2", 1),
]
CARD_STATES = [
    ("old/relu", 2, None, 3.2, 5.0, T0 + 3 * DAY_MS, T0 + 600_000, 2, 0, 0, 0),
    ("compute/grad", 1, 1, 0.4, 7.0, T0 + 60_000, T0, 1, 0, 1, 0),  # suspended
]


def first_release_database(path: Path) -> Path:
    """A database as release 0.1 left it: WAL mode, four reviews, one undone."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.executescript(FIRST_RELEASED_SCHEMA)
    db.execute("INSERT INTO migrations VALUES ('m001_initial', '2026-01-01T09:00:00+00:00')")
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.executemany(
        "INSERT INTO review_log (id, key, reviewed_at, rating, state_before, state_after,"
        " due_after, duration_ms, stability, difficulty, seed, answer, correct)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        REVIEWS,
    )
    db.execute("INSERT INTO undone VALUES (4, ?)", (T0 + 700_000,))
    db.executemany(f"INSERT INTO card_state VALUES ({', '.join('?' * 11)})", CARD_STATES)
    db.close()
    return path


def table_rows(path: Path, table: str) -> list[tuple]:
    db = sqlite3.connect(path)
    try:
        return db.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
    finally:
        db.close()


def test_the_frozen_schema_is_what_m001_makes(tmp_path):
    def schema(db: sqlite3.Connection) -> list[tuple]:
        rows = db.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name")
        return [(kind, name, " ".join((sql or "").split())) for kind, name, sql in rows]

    frozen = sqlite3.connect(tmp_path / "frozen.db")
    frozen.executescript(FIRST_RELEASED_SCHEMA)
    made = sqlite3.connect(tmp_path / "made.db")
    m001_initial(made)
    assert schema(made) == schema(frozen)


def test_a_first_release_database_upgrades_with_history_intact(tmp_path):
    path = first_release_database(tmp_path / "drill.db")
    before = {table: table_rows(path, table) for table in ("review_log", "card_state", "undone")}

    with Store(path) as store:
        assert schema_version(store.db) == [step.__name__ for step in MIGRATIONS]
        assert store.integrity_check() == "ok"
        relu = store.reviews("old/relu")
        assert [(r.rating, r.state_after) for r in relu] == [
            (Rating.GOOD, CardState.LEARNING),
            (Rating.GOOD, CardState.REVIEW),
        ]
        grad = store.reviews("compute/grad", include_undone=True)
        assert [(r.seed, r.answer, r.correct, r.undone) for r in grad] == [
            (1234, "0.25", False, False),
            (99, "-1/2", True, True),
        ]
        record = store.card("compute/grad")
        assert record is not None and record.suspended and record.step == 1
    for table, rows in before.items():
        assert table_rows(path, table) == rows, table


def test_the_upgrade_is_backed_up_first(tmp_path):
    path = first_release_database(tmp_path / "drill.db")
    Store(path).close()

    (copy,) = list_backups(tmp_path / "backups")
    assert copy.reason == "before-migration"
    assert table_rows(copy.path, "migrations")[0][0] == "m001_initial"
    assert len(table_rows(copy.path, "migrations")) == 1  # taken before the upgrade
    assert table_rows(copy.path, "review_log") == table_rows(path, "review_log")
    Store(path).close()
    assert len(list_backups(tmp_path / "backups")) == 1  # nothing left to upgrade, no copy


def test_a_failing_migration_changes_nothing(tmp_path, monkeypatch):
    path = first_release_database(tmp_path / "drill.db")
    before = {table: table_rows(path, table) for table in ("review_log", "card_state")}

    def m999_broken(db: sqlite3.Connection) -> None:
        db.execute("DELETE FROM card_state")
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(store_module, "MIGRATIONS", [*MIGRATIONS, m999_broken])
    with pytest.raises(StoreError, match="cannot be upgraded: disk I/O error"):
        Store(path)
    assert table_rows(path, "migrations") == [("m001_initial", "2026-01-01T09:00:00+00:00")]
    assert {table: table_rows(path, table) for table in before} == before
    # Found in the rehearsal on a copy: no backup of a database that cannot be upgraded.
    assert list_backups(tmp_path / "backups") == []


def test_a_migration_failing_only_on_the_real_file_is_rolled_back(tmp_path, monkeypatch):
    path = first_release_database(tmp_path / "drill.db")
    before = {table: table_rows(path, table) for table in ("review_log", "card_state")}

    def m999_disk_full(db: sqlite3.Connection) -> None:
        db.execute("DELETE FROM card_state")
        if db.execute("PRAGMA database_list").fetchone()[2]:  # a file, not the rehearsal
            raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(store_module, "MIGRATIONS", [*MIGRATIONS, m999_disk_full])
    with pytest.raises(StoreError, match="disk is full"):
        Store(path)
    assert table_rows(path, "migrations") == [("m001_initial", "2026-01-01T09:00:00+00:00")]
    assert {table: table_rows(path, table) for table in before} == before
    assert len(list_backups(tmp_path / "backups")) == 1


def test_no_migration_without_a_backup(tmp_path, monkeypatch):
    """If the copy cannot be made, the database is not upgraded."""
    path = first_release_database(tmp_path / "drill.db")
    (tmp_path / "backups").write_text("a file where the folder should be")

    with pytest.raises(StoreError, match="could not write a backup"):
        Store(path)
    assert table_rows(path, "migrations") == [("m001_initial", "2026-01-01T09:00:00+00:00")]


def test_the_cli_upgrades_the_users_database(drill_home, tmp_path):
    first_release_database(drill_home / "drill.db")
    decks = tmp_path / "decks"
    decks.mkdir()
    (decks / "old.yaml").write_text(
        "id: old\ntitle: Old\ncards:\n  - id: relu\n    q: What is ReLU?\n    a: max(0, x)\n"
    )
    result = CliRunner().invoke(app, ["show", "old/relu", "--decks", str(decks)])
    assert result.exit_code == 0, result.output
    assert result.output.count("good") == 2, result.output  # both first-release reviews
    copies = list_backups(drill_home / "backups")
    assert [copy.reason for copy in copies] == ["before-migration"]  # it also counts as today's


def test_the_schema_digest_is_that_of_the_schema_the_migrations_build(tmp_path):
    """A new migration changes the schema: SCHEMA_DIGEST must then be updated (the value
    to write is in the failure), or every start compares the schema item by item again."""
    built = store_module._expected_schema(tuple(store_module.MIGRATIONS))
    assert store_module.schema_digest(built) == store_module.SCHEMA_DIGEST
    with Store(tmp_path / "drill.db") as store:  # a database these migrations made
        assert store_module.schema_digest(store_module._schema_of(store.db)) == (
            store_module.SCHEMA_DIGEST
        )


def test_a_database_lacking_an_index_is_still_caught_past_the_digest(tmp_path):
    with Store(tmp_path / "drill.db") as store:
        store.db.execute("DROP INDEX card_state_due")
        assert store_module.missing_schema(store.db) == "index card_state_due"
