"""Putting a backup back: `drill restore`.

The candidate is checked in full before anything is replaced: SQLite's integrity check, a
schema this drill knows, and its upgrade rehearsed on a copy. The current database is
copied first, or moved aside when it is damaged; the restored copy is then upgraded by
the store like any older database.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from drill.errors import StoreError
from drill.review.backup import (
    PARTIAL_PREFIX,
    STAMP_FORMAT,
    Backup,
    Reason,
    backups_folder,
    copy_database,
    database_problem,
    make_backup,
    open_existing,
)
from drill.review.dbfile import BUSY_TIMEOUT_MS, NewerDatabase, UnusableDatabase, database_error
from drill.review.store import Store, check_upgradable


@dataclass(frozen=True)
class Restored:
    source: Path
    safety_copy: Backup | None  # the database as it was, when it could be copied
    moved_aside: Path | None  # the damaged database, when it could not be copied


def restore(source: Path, database: Path) -> Restored:
    """Make `source` (a drill database, usually a backup) the database.

    The current database is copied first; a damaged one is renamed aside instead. Nothing
    is changed when `source` is not a sound drill database: it must pass SQLite's full
    integrity check, come from this drill or an older one, and upgrade cleanly (rehearsed
    on a copy in memory) to a complete schema.
    """
    problem = database_problem(source, thorough=True)
    if problem:
        raise StoreError(f"{source} is not a drill database ({problem}); nothing was changed")
    if database.exists() and source.resolve() == database.resolve():
        raise StoreError(f"{source} is the database itself; name a backup to restore")
    _check_upgradable(source)
    safety_copy, moved_aside = None, None
    if database.exists() and database_problem(database) is None:
        safety_copy = _copy_into_live(source, database)
    else:
        moved_aside = _move_aside(database) if database.exists() else None
        _copy_into_new(source, database)
    # A copy made by an older drill is upgraded now (with its own backup first).
    Store(database).close()
    return Restored(source, safety_copy, moved_aside)


def _copy_into_live(source: Path, database: Path) -> Backup:
    """Copy `source` over the open database through SQLite, so a running session sees it."""
    live = sqlite3.connect(database, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    try:
        safety_copy = make_backup(live, backups_folder(database), Reason.RESTORE)
        with open_existing(source) as backup:
            backup.backup(live)
    except sqlite3.DatabaseError as error:
        raise database_error(database, error) from None
    finally:
        live.close()
    return safety_copy


def _copy_into_new(source: Path, database: Path) -> None:
    database.parent.mkdir(parents=True, exist_ok=True)
    partial = database.with_name(f"{PARTIAL_PREFIX}{database.name}")
    try:
        with open_existing(source) as backup:
            copy_database(backup, partial)
        os.replace(partial, database)
    except sqlite3.DatabaseError as error:
        raise database_error(database, error) from None
    finally:
        partial.unlink(missing_ok=True)


def _move_aside(database: Path) -> Path:
    """Rename a damaged database, with its WAL and shared-memory files, out of the way."""
    stamp = datetime.now(UTC).strftime(STAMP_FORMAT)
    aside = database.with_name(f"{database.stem}-damaged-{stamp}{database.suffix}")
    for suffix in ("-wal", "-shm", ""):  # the main file last: its name is what drill opens
        companion = Path(f"{database}{suffix}")
        if companion.exists():
            os.replace(companion, f"{aside}{suffix}")
    return aside


def _check_upgradable(source: Path) -> None:
    try:
        with open_existing(source) as db:
            check_upgradable(db, source)
    except sqlite3.DatabaseError as error:
        raise StoreError(f"{source} cannot be read ({error}); nothing was changed") from None
    except UnusableDatabase as error:
        raise StoreError(
            f"{source} is not a usable drill database ({error.detail}); nothing was changed"
        ) from None
    except NewerDatabase as error:
        raise StoreError(
            f"{source} was written by a newer drill ({error.versions}); nothing was changed"
        ) from None
