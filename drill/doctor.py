"""Health checks for `drill doctor`: the database, the decks, the config and the backups.

Each check only reads (a missing database is not created, nothing is migrated) and returns
findings: what was found, how serious it is, and what to do about it. Rendering them is the
CLI's job.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from pathlib import Path

from drill.decks.loader import Collection
from drill.decks.scheduled import scheduled_cards
from drill.errors import ConfigError, DeckError
from drill.review import backup
from drill.review.dbfile import counted_reviews

ORPHANS_SHOWN = 5
BACKUP_LAG = timedelta(days=2)
"""Reviews this much newer than the newest backup mean daily backups are failing."""


class Severity(IntEnum):
    OK = 0
    NOTE = 1  # worth knowing, nothing to do
    WARNING = 2  # the user should act
    ERROR = 3  # something is broken


@dataclass(frozen=True)
class Finding:
    area: str  # "database", "decks", "config" or "backups"
    severity: Severity
    message: str
    advice: str = ""

    @property
    def needs_user(self) -> bool:
        return self.severity >= Severity.WARNING


def needs_user(findings: Iterable[Finding]) -> bool:
    return any(finding.needs_user for finding in findings)


# The database


def check_database(
    path: Path, card_keys: set[str], migrations: Iterable[str] | None = None
) -> list[Finding]:
    """Integrity, schema version and orphaned history of the database at `path`.

    `card_keys` are the keys of every card in the loaded decks; `migrations` the names this
    drill knows (the store's, by default).
    """
    home = _unusable_home(path)
    if home:
        return [home]
    if not path.exists():
        return [
            Finding("database", Severity.OK, f"{path} does not exist yet (no reviews)."),
            *_lost_history(path),
        ]
    problem = backup.database_problem(path, thorough=True)
    if problem:
        return [
            Finding(
                "database",
                Severity.ERROR,
                f"{path} is not a usable drill database ({problem}).",
                "Restore a backup with `drill restore FILE` (see `drill backup --list`), "
                "or move the file away to start afresh.",
            )
        ]
    if migrations is None:
        from drill.review.store import MIGRATIONS

        migrations = [step.__name__ for step in MIGRATIONS]
    try:
        with backup.open_existing(path) as db:
            findings = _schema(db, path, list(migrations))
            if findings[0].severity < Severity.WARNING:
                findings += _history(db, card_keys)
    except sqlite3.DatabaseError as error:
        return [Finding("database", Severity.ERROR, f"{path}: {error}", "Run drill doctor again.")]

    return findings + _lost_history(path)


def _unusable_home(path: Path) -> Finding | None:
    """The data folder or the database file is something else (DRILL_HOME set to a file,
    a folder named drill.db): every command that opens the database refuses it."""
    if path.is_dir():
        return Finding(
            "database",
            Severity.ERROR,
            f"{path} is a folder, not a database file.",
            "Move or rename it; drill creates its database there.",
        )
    for folder in (path.parent, *path.parent.parents):
        if folder.exists():
            if folder.is_dir():
                return None
            return Finding(
                "database",
                Severity.ERROR,
                f"{folder} is a file, but drill keeps its data in a folder there.",
                "Point DRILL_HOME at a folder (or move the file away).",
            )
    return None


def _lost_history(path: Path) -> list[Finding]:
    """A backup holding more reviews than the database: it was emptied, deleted or
    replaced, and the backup may be the user's history."""
    found = backup.richer_backup(path)
    if found is None:
        return []
    copy = found[0]
    # Told as every other figure counts reviews (undone ones left out): a backup richer
    # only in undone reviews has lost nothing.
    copy_reviews, live_reviews = _counted(copy.path), _counted(path)
    if copy_reviews <= live_reviews:
        return []
    return [
        Finding(
            "database",
            Severity.WARNING,
            f"{path} holds {live_reviews} review{'s' * (live_reviews != 1)}, but the backup "
            f"{copy.path.name} holds {copy_reviews}: history may have been lost.",
            f"If that history is yours: drill restore {copy.path.name}",
        )
    ]


def _counted(path: Path) -> int:
    if not path.is_file():
        return 0
    try:
        with backup.open_existing(path) as db:
            return counted_reviews(db)
    except (OSError, sqlite3.DatabaseError):
        return 0


def _schema(db: sqlite3.Connection, path: Path, known: list[str]) -> list[Finding]:
    applied = [row[0] for row in db.execute("SELECT name FROM migrations ORDER BY rowid")]
    unknown = [name for name in applied if name not in known]
    if unknown:
        return [
            Finding(
                "database",
                Severity.WARNING,
                f"{path} was upgraded by a newer drill (schema {unknown[-1]}).",
                "Upgrade drill before using this database.",
            )
        ]
    pending = [name for name in known if name not in applied]
    if not pending:
        from drill.review.store import missing_schema

        missing = missing_schema(db)
        if missing:
            return [
                Finding(
                    "database",
                    Severity.ERROR,
                    f"{path} is not a usable drill database (it lacks {missing}).",
                    "Restore a backup with `drill restore FILE` (see `drill backup --list`).",
                )
            ]
    if pending:
        return [
            Finding(
                "database",
                Severity.NOTE,
                f"{path} has schema {applied[-1] if applied else 'none'}; "
                f"{len(pending)} upgrade{'s' * (len(pending) != 1)} pending.",
                "Nothing to do: the next command that uses it upgrades it, after a backup.",
            )
        ]
    reviews = counted_reviews(db)  # undone ones left out, as `drill stats` counts
    return [
        Finding(
            "database",
            Severity.OK,
            f"{path}: integrity ok, schema {applied[-1]}, {reviews} review{'s' * (reviews != 1)}.",
        )
    ]


def _history(db: sqlite3.Connection, card_keys: set[str]) -> list[Finding]:
    """Cards with history that no deck has any more (renamed ones count as their new key)."""
    keys = {
        row[0] for row in db.execute("SELECT key FROM card_state UNION SELECT key FROM review_log")
    }
    renamed = _renamed(db)
    orphans = sorted(key for key in keys if _current_key(key, renamed) not in card_keys)
    if not orphans:
        return []
    shown = ", ".join(orphans[:ORPHANS_SHOWN])
    more = f" and {len(orphans) - ORPHANS_SHOWN} more" if len(orphans) > ORPHANS_SHOWN else ""
    count = len(orphans)
    return [
        Finding(
            "database",
            Severity.NOTE,
            f"{count} card{'s' * (count != 1)} with history in no deck (orphaned): {shown}{more}.",
            "Their history is kept and comes back when a deck has the card again under the "
            "same deck/card id; for a renamed card, add `was: OLD-ID` to it.",
        )
    ]


def _renamed(db: sqlite3.Connection) -> dict[str, str]:
    exists = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'renamed'"
    ).fetchone()
    return dict(db.execute("SELECT old_key, new_key FROM renamed")) if exists else {}


def _current_key(key: str, renamed: dict[str, str]) -> str:
    seen = {key}
    while key in renamed and renamed[key] not in seen:
        key = renamed[key]
        seen.add(key)
    return key


# Decks and config


def check_decks(collection: Collection) -> list[Finding]:
    """One finding per deck file that does not load, or one saying all is well."""
    by_file: dict[str | None, list[DeckError]] = {}
    for error in collection.errors:
        by_file.setdefault(error.path, []).append(error)
    findings = []
    for errors in by_file.values():
        more = len(errors) - 1
        suffix = f" ({more} more error{'s' * (more != 1)})" if more else ""
        advice = "Fix the file; `drill lint` lists every error. Until then it is skipped."
        findings.append(Finding("decks", Severity.ERROR, f"{errors[0]}{suffix}", advice))
    if not findings:
        decks, cards = len(collection.decks), collection.card_count
        message = f"{decks} deck{'s' * (decks != 1)}, {cards} card{'s' * (cards != 1)}: all valid."
        findings.append(Finding("decks", Severity.OK, message))
    return findings


def check_config(path: Path) -> list[Finding]:
    from drill.home.config import load_config

    try:
        load_config(path)
    except ConfigError as error:
        advice = "Fix or remove the file; `drill config` lists every setting and its meaning."
        return [Finding("config", Severity.ERROR, str(error), advice)]
    where = str(path) if path.exists() else "defaults (no config file)"
    return [Finding("config", Severity.OK, f"{where}: valid.")]


# Backups


def check_backups(folder: Path, database: Path, now: datetime | None = None) -> list[Finding]:
    """Are there backups, is the newest one sound, and are they keeping up with reviews?"""
    now = now or datetime.now(UTC)
    if folder.exists() and not folder.is_dir():
        advice = "Move that file away so drill can make the folder."
        return [Finding("backups", Severity.ERROR, f"{folder} is not a folder.", advice)]
    copies = backup.list_backups(folder)
    findings = _stale_partials(folder)
    first_review, last_review = _review_span(database)
    if not copies:
        findings.append(_no_backups(folder, first_review, now))
        return findings
    newest = copies[-1]
    problem = backup.database_problem(newest.path)
    if problem:
        findings.append(
            Finding(
                "backups",
                Severity.WARNING,
                f"The newest backup {newest.path} is unusable ({problem}).",
                "Run `drill backup` to make a sound one.",
            )
        )
    elif last_review is not None and last_review - newest.made_at > BACKUP_LAG:
        findings.append(
            Finding(
                "backups",
                Severity.WARNING,
                f"The newest backup is from {newest.made_at:%Y-%m-%d}, but reviews go on "
                f"to {last_review:%Y-%m-%d}: daily backups are failing.",
                f"Check free space and permissions of {folder}, then run `drill backup`.",
            )
        )
    else:
        age = _age(now - newest.made_at)
        count = len(copies)
        message = f"{count} backup{'s' * (count != 1)} in {folder}; newest {age} old."
        findings.append(Finding("backups", Severity.OK, message))
    return findings


def _stale_partials(folder: Path) -> list[Finding]:
    stale = backup.stale_partials(folder)
    if not stale:
        return []
    return [
        Finding(
            "backups",
            Severity.NOTE,
            f"{len(stale)} unfinished copy file(s) left by an interrupted backup in {folder}.",
            "Nothing to do: the next backup removes them.",
        )
    ]


def _no_backups(folder: Path, first_review: datetime | None, now: datetime) -> Finding:
    if first_review is None:
        return Finding("backups", Severity.OK, "None yet; they start once there are reviews.")
    if now - first_review < BACKUP_LAG:
        # The day's copy is made when drill opens the database; the first reviews came after.
        message = "None yet; the first is made the next time drill opens the database."
        return Finding("backups", Severity.NOTE, message, "Or run `drill backup` now.")
    return Finding(
        "backups",
        Severity.WARNING,
        f"No backups in {folder}, though reviews go back to {first_review:%Y-%m-%d}.",
        "Run `drill backup`; check that the folder can be written.",
    )


def _review_span(database: Path) -> tuple[datetime | None, datetime | None]:
    """When the first and the last review were made, if the database can tell."""
    if not database.exists() or backup.database_problem(database) is not None:
        return None, None
    try:
        with backup.open_existing(database) as db:
            row = db.execute("SELECT min(reviewed_at), max(reviewed_at) FROM review_log").fetchone()
    except sqlite3.DatabaseError:
        return None, None
    if not row or row[0] is None:
        return None, None
    return tuple(datetime.fromtimestamp(ms / 1000, tz=UTC) for ms in row)  # type: ignore[return-value]


def _age(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    if hours < 1:
        return "less than an hour"
    if hours < 48:
        return f"{int(hours)} hour{'s' * (int(hours) != 1)}"
    return f"{int(hours // 24)} days"


def run_checks(
    database: Path, collection: Collection, config_file: Path, backups: Path
) -> list[Finding]:
    """Every check, in the order `drill doctor` shows them."""
    # The keys cards are studied under: a cloze card's are `deck/card#c1`, `#c2`, …
    card_keys = {card.key for deck in collection.decks for card in scheduled_cards(deck.cards)}
    return [
        *check_database(database, card_keys),
        *check_decks(collection),
        *check_config(config_file),
        *check_backups(backups, database),
    ]
