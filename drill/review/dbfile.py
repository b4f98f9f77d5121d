"""What makes a file a drill database, shared by the store and its backups.

The SQLite header and drill's application id tell a drill database from other files; the
connection settings and the one-line messages for a file that cannot be used live here so
that the store and the backups agree on them without importing each other.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from drill.errors import StoreError

APPLICATION_ID = 0x44524C4C  # "DRLL": marks the file as a drill database
BUSY_TIMEOUT_MS = 10_000
SQLITE_HEADER = b"SQLite format 3\x00"


def has_sqlite_header(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(SQLITE_HEADER)) == SQLITE_HEADER


def counted_reviews(db: sqlite3.Connection) -> int:
    """Reviews as every figure drill shows counts them (`drill stats`, `drill doctor`, a
    session's summary): undone ones left out. 0 when there is no review log."""
    try:
        row = db.execute(
            "SELECT count(*) FROM review_log WHERE id NOT IN (SELECT review_id FROM undone)"
        ).fetchone()
    except sqlite3.DatabaseError:
        return 0
    return int(row[0])


def review_count(db: sqlite3.Connection) -> int:
    """How many reviews a database holds: 0 when it has no review log at all.

    Reviews are append-only (an undo adds a row elsewhere), so the largest id is the count,
    read from the primary key without scanning millions of rows.
    """
    try:
        row = db.execute("SELECT max(id) FROM review_log").fetchone()
    except sqlite3.DatabaseError:
        return 0
    return int(row[0] or 0)


def database_error(path: Path, error: sqlite3.DatabaseError) -> StoreError:
    """A clear message for an SQLite error: damage points to the backups, the rest is shown."""
    if isinstance(error, sqlite3.OperationalError):  # locked, read-only, disk full, no access
        return StoreError(f"{path}: {error}")
    return corrupt(path, error)


class UnusableDatabase(StoreError):
    """A file that is not a drill database drill can use; `detail` says why."""

    def __init__(self, path: Path, detail: object) -> None:
        self.path, self.detail = path, str(detail)
        super().__init__(
            f"{path} is not a usable drill database ({detail}). It was left untouched; "
            "restore a backup with `drill restore FILE` or move the file away to start afresh."
        )


class NewerDatabase(StoreError):
    """A database whose schema a newer drill wrote; this one cannot know what it means."""

    def __init__(self, path: Path, versions: str) -> None:
        self.path, self.versions = path, versions
        super().__init__(
            f"{path} was written by a newer drill ({versions}). "
            "It was left untouched: upgrade drill to use it."
        )


def corrupt(path: Path, detail: object) -> UnusableDatabase:
    return UnusableDatabase(path, detail)
