"""Copies of the database: before every migration, at the first use of each day, and by hand.

Copies are made with SQLite's online backup API, which reads one consistent snapshot even
while another drill process is writing, into the `backups` folder of the data dir, named by
their UTC time and why they were made: `drill-20260302T090000Z-daily.db`. The newest KEEP
copies stay; files with other names in that folder are never touched.

A copy is written under a temporary name, checked, and only then renamed, so a crash never
leaves half a copy that looks like a backup. A damaged database is never copied: seven
copies of a broken file would push out the last good ones.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
import uuid
from contextlib import closing
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import NamedTuple

from drill.errors import StoreError
from drill.home.paths import get_paths
from drill.review.dbfile import APPLICATION_ID, SQLITE_HEADER, review_count

KEEP = 7
"""How many copies stay in the backups folder."""
_STALE_PARTIAL_SECONDS = 3600  # a temporary copy this old belongs to a process that died
_NAME = re.compile(
    r"^drill-(?P<stamp>(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z)"
    r"-(?P<reason>[a-z]+(?:-[a-z]+)*)(?:-(?P<n>\d+))?\.db$"
)
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
PARTIAL_PREFIX = ".partial-"


class Reason(StrEnum):
    """Why a copy was made; part of its file name."""

    DAILY = "daily"
    MANUAL = "manual"
    MIGRATION = "before-migration"
    RESTORE = "before-restore"
    PURGE = "before-purge"


class BackupFailed(StoreError):
    """A copy could not be written (disk full, no permission)."""


class Backup(NamedTuple):
    path: Path
    made_at: datetime  # UTC, to the second
    reason: str
    number: int = 0  # tells apart copies made in the same second for the same reason


# Where copies live and which exist


def backups_folder(database: Path) -> Path:
    """get_paths().backups for the user's database; a `backups` folder beside any other."""
    paths = get_paths()
    return paths.backups if Path(database) == paths.database else Path(database).parent / "backups"


def list_backups(folder: Path) -> list[Backup]:
    """The copies in `folder`, oldest first. Files of other names are ignored."""
    try:
        names = os.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return []
    found = []
    for name in names:
        match = _NAME.match(name)
        if match:
            try:  # the stamp's fields by hand: strptime costs a start-up its regexes
                made_at = datetime(*map(int, match.groups()[1:7]), tzinfo=UTC)
            except ValueError:  # digits that are no time, such as month 13
                continue
            found.append(Backup(folder / name, made_at, match["reason"], int(match["n"] or 0)))
    return sorted(found, key=lambda b: (b.made_at, b.number, b.path.name))


def find_backup(name: Path, folder: Path) -> Path:
    """The file `name` as given, or else a copy of that name in the backups folder."""
    if name.exists() or name.parent != Path("."):
        return name
    in_folder = folder / name.name
    return in_folder if in_folder.exists() else name


# Making copies


def make_backup(
    source: sqlite3.Connection, folder: Path, reason: Reason, now: datetime | None = None
) -> Backup:
    """Copy the open database into `folder`, then keep only the newest KEEP copies.

    Raises StoreError if the database is damaged (nothing is copied or removed then) and
    BackupFailed if the copy cannot be written.
    """
    problem = _quick_check(source)
    if problem:
        raise StoreError(
            f"{_file_of(source)} is damaged ({problem}). No backup was made and the ones in "
            f"{folder} were kept; restore one with `drill restore FILE` (see drill backup --list)."
        )
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f"{PARTIAL_PREFIX}{os.getpid()}-{uuid.uuid4().hex}.db"
        try:
            copy_database(source, partial)
            target = _free_name(folder, now, reason)
            # Two processes may pick the same free name in the same second; both copies are
            # equally recent snapshots, so whichever rename lands last is as good.
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    except (OSError, sqlite3.Error) as error:
        raise BackupFailed(f"could not write a backup in {folder}: {error}") from None
    prune(folder, live_reviews=review_count(source))
    match = _NAME.match(target.name)
    return Backup(target, now, str(reason), int(match["n"] or 0) if match else 0)


def copy_database(source: sqlite3.Connection, target_path: Path) -> None:
    target = sqlite3.connect(target_path)
    try:
        source.backup(target)
        # The copy leaves WAL mode: one self-contained file, nothing beside it to lose.
        target.execute("PRAGMA journal_mode = DELETE")
        problem = _quick_check(target)
    finally:
        target.close()
    if problem:
        raise sqlite3.DatabaseError(f"the copy failed its check: {problem}")


def _free_name(folder: Path, now: datetime, reason: Reason) -> Path:
    stamp = now.strftime(STAMP_FORMAT)
    number = 0
    while True:
        suffix = f"-{number}" if number else ""
        path = folder / f"drill-{stamp}-{reason}{suffix}.db"
        if not path.exists():
            return path
        number += 1


def prune(folder: Path, keep: int = KEEP, live_reviews: int | None = None) -> list[Path]:
    """Remove all but the newest `keep` copies, and temporary files left by a crash.

    With `live_reviews` (how many reviews the live database holds), the newest copy holding
    more than that is kept too, however old: when the database was emptied, replaced or
    damaged, copies of it must not push out the last one with the user's history.
    """
    removed = []
    backups = list_backups(folder)
    richer = richest_newer_than(backups, live_reviews) if live_reviews is not None else None
    for backup in backups[: max(0, len(backups) - keep)]:
        if richer is not None and backup.path == richer[0].path:
            continue
        backup.path.unlink(missing_ok=True)  # another process may have pruned it already
        removed.append(backup.path)
    for partial in stale_partials(folder):
        partial.unlink(missing_ok=True)
        removed.append(partial)
    return removed


def richest_newer_than(backups: list[Backup], live_reviews: int) -> tuple[Backup, int] | None:
    """The newest of `backups` holding more than `live_reviews` reviews, with its count."""
    for backup in reversed(backups):
        count = backup_reviews(backup.path)
        if count is not None and count > live_reviews:
            return backup, count
    return None


def backup_reviews(path: Path) -> int | None:
    """How many reviews a copy holds; None when it cannot be read as a drill database."""
    try:
        with open_existing(path) as db:
            if db.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
                return None
            return review_count(db)
    except (OSError, sqlite3.DatabaseError):
        return None


def richer_backup(database: Path) -> tuple[Backup, int, int] | None:
    """A backup holding more reviews than the database at `database`, the newest such, as
    (backup, its reviews, the database's reviews); None when the database holds the most.
    A missing database holds none."""
    backups = list_backups(backups_folder(database))
    purges = [copy.made_at for copy in backups if copy.reason == Reason.PURGE]
    if purges:  # history `drill decks remove --purge` deleted on purpose is not lost
        backups = [copy for copy in backups if copy.made_at > max(purges)]
    if not backups:
        return None
    live = 0
    if database.is_file():
        try:
            with open_existing(database) as db:
                live = review_count(db)
        except (OSError, sqlite3.DatabaseError):
            live = 0
    found = richest_newer_than(backups, live)
    return (found[0], found[1], live) if found else None


def stale_partials(folder: Path) -> list[Path]:
    """Temporary copies old enough that the process writing them must have died."""
    try:
        entries = list(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []
    cutoff = time.time() - _STALE_PARTIAL_SECONDS
    stale = []
    for entry in entries:
        try:
            if entry.name.startswith(PARTIAL_PREFIX) and entry.stat().st_mtime < cutoff:
                stale.append(entry)
        except FileNotFoundError:
            continue
    return stale


def before_migration(path: Path, db: sqlite3.Connection) -> Backup:
    """Called by the store before it changes the schema; a failure stops the migration."""
    return make_backup(db, backups_folder(path), Reason.MIGRATION)


def daily_backup(path: Path, db: sqlite3.Connection, now: datetime | None = None) -> Backup | None:
    """At the first use of each local day, copy a database that holds any history.

    A copy that cannot be written does not stop the user from studying: `drill doctor`
    reports backups that fall behind. A damaged database does stop it (StoreError).
    """
    now = now or datetime.now(UTC)
    folder = backups_folder(path)
    today = now.astimezone().date()
    try:
        if any(b.made_at.astimezone().date() == today for b in list_backups(folder)):
            return None
        if not _has_history(db):
            return None
        return make_backup(db, folder, Reason.DAILY, now)
    except (BackupFailed, OSError):
        return None


def _has_history(db: sqlite3.Connection) -> bool:
    row = db.execute(
        "SELECT EXISTS (SELECT 1 FROM review_log) OR EXISTS (SELECT 1 FROM card_state)"
    ).fetchone()
    return bool(row[0])


def _quick_check(db: sqlite3.Connection) -> str | None:
    """None for a sound database, else the first problem SQLite finds, on one line."""
    try:
        result = str(db.execute("PRAGMA quick_check(1)").fetchone()[0])
    except sqlite3.DatabaseError as error:
        result = str(error)
    return None if result == "ok" else _one_line(result)


def _one_line(report: str) -> str:
    lines = [line for line in report.splitlines() if line.strip() and not line.startswith("***")]
    return "; ".join(lines) or report.strip()


def _file_of(db: sqlite3.Connection) -> str:
    row = db.execute("PRAGMA database_list").fetchone()
    return row[2] or "the database"


# Checking and restoring


def database_problem(path: Path, thorough: bool = False) -> str | None:
    """Why `path` is not a sound drill database, or None. Opens it read-only.

    `thorough` runs SQLite's full integrity check instead of the quick one.
    """
    if not path.is_file():
        return "no such file"
    with path.open("rb") as handle:
        if handle.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            return "not an SQLite database"
    try:
        with open_existing(path) as db:
            return _drill_problem(db, thorough)
    except sqlite3.DatabaseError as error:
        return str(error)


def _drill_problem(db: sqlite3.Connection, thorough: bool) -> str | None:
    if db.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
        return "an SQLite file of another program"
    has_migrations = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'migrations'"
    ).fetchone()
    if not has_migrations:
        return "it has no migrations table"
    if thorough:
        result = str(db.execute("PRAGMA integrity_check(1)").fetchone()[0])
        return None if result == "ok" else _one_line(result)
    return _quick_check(db)


def open_existing(path: Path) -> closing[sqlite3.Connection]:
    """A connection to an existing database file that never creates it, for a `with` block.

    Read-only, except for a file in WAL mode: a read-only connection cannot remove the -wal
    and -shm files it needs, so it would leave them behind. Callers only read either way.
    """
    with path.open("rb") as handle:
        header = handle.read(20)
    in_wal_mode = len(header) == 20 and header[18] == 2
    mode = "rw" if in_wal_mode and os.access(path, os.W_OK) else "ro"
    return closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode={mode}", uri=True))
