"""SQLite storage: per-card scheduling state and an append-only review log.

One file in the data dir, WAL mode, foreign keys on, a busy timeout, and short
`BEGIN IMMEDIATE` write transactions so two sessions can share it. The schema changes only
through the named migrations at the end of this module. Review rows are never updated or
deleted: undoing a review appends a row to `undone` and restores the card's previous state.
"""

from __future__ import annotations

import json
import sqlite3
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from drill.errors import StoreError
from drill.model import CardState, Rating
from drill.review import backup
from drill.review.dbfile import (
    APPLICATION_ID,
    BUSY_TIMEOUT_MS,
    NewerDatabase,
    corrupt,
    database_error,
    has_sqlite_header,
)
from drill.review.m008_stats_ranges import m008_stats_ranges


def to_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("datetime must be timezone-aware")
    return round(moment.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


@dataclass(frozen=True)
class CardRecord:
    """What drill knows of one card's schedule. A card without a record is new."""

    key: str
    state: CardState = CardState.NEW
    step: int | None = None
    stability: float | None = None
    difficulty: float | None = None
    due: datetime | None = None
    last_review: datetime | None = None
    reps: int = 0
    lapses: int = 0
    suspended: bool = False
    leech: bool = False

    def to_dict(self) -> dict[str, Any]:
        # Spelled out: dataclasses.asdict deep-copies every datetime, and was two thirds of
        # the time of a bulk load (benchmarks/README.md). Same keys, same order.
        return {
            "key": self.key,
            "state": int(self.state),
            "step": self.step,
            "stability": self.stability,
            "difficulty": self.difficulty,
            "due": to_ms(self.due) if self.due else None,
            "last_review": to_ms(self.last_review) if self.last_review else None,
            "reps": self.reps,
            "lapses": self.lapses,
            "suspended": self.suspended,
            "leech": self.leech,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CardRecord:
        return cls(
            key=data["key"],
            state=CardState(data["state"]),
            step=data["step"],
            stability=data["stability"],
            difficulty=data["difficulty"],
            due=from_ms(data["due"]) if data["due"] is not None else None,
            last_review=from_ms(data["last_review"]) if data["last_review"] is not None else None,
            reps=data["reps"],
            lapses=data["lapses"],
            suspended=bool(data["suspended"]),
            leech=bool(data["leech"]),
        )


@dataclass(frozen=True)
class Review:
    """One row of the review log."""

    key: str
    reviewed_at: datetime
    rating: Rating
    state_before: CardState
    state_after: CardState
    due_after: datetime
    duration_ms: int | None = None
    stability: float | None = None
    difficulty: float | None = None
    seed: int | None = None
    answer: str | None = None
    correct: bool | None = None
    id: int | None = None
    undone: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "key": self.key,
            "reviewed_at": self.reviewed_at.isoformat(),
            "rating": int(self.rating),
            "state_before": int(self.state_before),
            "state_after": int(self.state_after),
            "due_after": self.due_after.isoformat(),
            "duration_ms": self.duration_ms,
            "stability": self.stability,
            "difficulty": self.difficulty,
            "seed": self.seed,
            "answer": self.answer,
            "correct": self.correct,
            "undone": self.undone,
        }


class DueDates(Mapping[str, datetime]):
    """Due dates by card key, kept as stored and made datetimes only when read: a session
    only asks whether a card is among them, for thousands of cards."""

    def __init__(self, due_ms: dict[str, int]) -> None:
        self._due_ms = due_ms

    def __getitem__(self, key: str) -> datetime:
        return from_ms(self._due_ms[key])

    def __contains__(self, key: object) -> bool:
        return key in self._due_ms

    def __iter__(self) -> Iterator[str]:
        return iter(self._due_ms)

    def __len__(self) -> int:
        return len(self._due_ms)

    def count_before(self, keys: Iterable[str], moment: datetime) -> int:
        """How many of `keys` are due before `moment` (tomorrow's count), no datetime made."""
        until, due = to_ms(moment), self._due_ms
        return sum(1 for key in keys if due.get(key, until) < until)


_CARD_COLUMNS = (
    "key, state, step, stability, difficulty, due, last_review, reps, lapses, suspended, leech"
)
_REVIEW_COLUMNS = (
    "r.id, r.key, r.reviewed_at, r.rating, r.state_before, r.state_after, r.due_after, "
    "r.duration_ms, r.stability, r.difficulty, r.seed, r.answer, r.correct, "
    "u.review_id IS NOT NULL"
)
# The columns log_text may write: integers, so the text needs no quoting or escaping.
_LOG_INTEGER_COLUMNS = frozenset(
    {
        "id",
        "reviewed_at",
        "rating",
        "state_before",
        "state_after",
        "due_after",
        "duration_ms",
        "seed",
        "correct",
    }
)


_STATES = tuple(CardState)  # by value: CardState(n) is _STATES[n]


def _card_from_row(row: tuple) -> CardRecord:
    # Positional and without Enum() calls: a session reads every card's row, 20,000 of
    # them in a large collection, and this was most of that time (benchmarks/README.md).
    key, state, step, stability, difficulty, due, last, reps, lapses, suspended, leech = row
    return CardRecord(
        key,
        _STATES[state],
        step,
        stability,
        difficulty,
        None if due is None else datetime.fromtimestamp(due / 1000, UTC),
        None if last is None else datetime.fromtimestamp(last / 1000, UTC),
        reps,
        lapses,
        bool(suspended),
        bool(leech),
    )


def _review_from_row(row: tuple) -> Review:
    (
        rid,
        key,
        at,
        rating,
        before,
        after,
        due,
        duration,
        stab,
        diff,
        seed,
        answer,
        correct,
        undone,
    ) = row
    return Review(
        id=rid,
        key=key,
        reviewed_at=from_ms(at),
        rating=Rating(rating),
        state_before=CardState(before),
        state_after=CardState(after),
        due_after=from_ms(due),
        duration_ms=duration,
        stability=stab,
        difficulty=diff,
        seed=seed,
        answer=answer,
        correct=None if correct is None else bool(correct),
        undone=bool(undone),
    )


class Store:
    """An open drill database. Use as a context manager, or call close()."""

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = Path(path)
        _refuse_foreign_file(self.path)
        self.in_memory = not create and not self.path.exists()
        if self.in_memory:
            _refuse_non_folder(self.path.parent)
            # A command that only reads, in a home that has no database yet: the empty
            # schema in memory gives its answer (nothing studied), and no file is made.
            self.db = sqlite3.connect(":memory:", isolation_level=None)
            self.db.execute("PRAGMA foreign_keys = ON")
            migrate(self.db, self.path)
            return
        _make_folder(self.path.parent)
        try:
            fresh = self.path.stat().st_size == 0
        except OSError:  # not there yet (or not readable: connect says so)
            fresh = not self.path.exists()
        try:
            self.db = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None
            )
        except sqlite3.DatabaseError as error:
            raise database_error(self.path, error) from None
        try:
            self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self.db.execute("PRAGMA foreign_keys = ON")
            if fresh:  # nothing to lose yet: the switch to WAL need not wait for the disk
                self.db.execute("PRAGMA synchronous = OFF")
            _use_wal(self.db)
            # FULL: a review is on disk when record() returns, even if the power fails next.
            self.db.execute("PRAGMA synchronous = FULL")
            migrate(self.db, self.path)
        except BaseException as error:
            self.db.close()
            if isinstance(error, sqlite3.DatabaseError):
                raise database_error(self.path, error) from None
            raise

    @classmethod
    def open(cls, path: Path | None = None, *, create: bool = True) -> Store:
        """The database at `path` (the home's by default), backed up once a day. Without
        `create`, a database that does not exist yet is not made: an empty one in memory
        stands in for it (for commands that only read)."""
        from drill.home.paths import get_paths

        store = cls(path or get_paths().database, create=create)
        if store.in_memory:
            return store
        try:
            backup.daily_backup(store.path, store.db)
        except BaseException:
            store.close()
            raise
        return store

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A short write transaction, retried if another process holds the lock too long."""
        for attempt in range(5):
            try:
                self.db.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as error:
                if ("locked" not in str(error) and "busy" not in str(error)) or attempt == 4:
                    raise StoreError(f"{self.path}: {error}") from None
                time.sleep(0.05 * (attempt + 1))
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")

    # -- card state -------------------------------------------------------------------

    def card(self, key: str) -> CardRecord | None:
        row = self.db.execute(
            f"SELECT {_CARD_COLUMNS} FROM card_state WHERE key = ?", (key,)
        ).fetchone()
        return _card_from_row(row) if row else None

    def cards(self) -> dict[str, CardRecord]:
        """Every card with a record (cards never reviewed nor suspended have none)."""
        rows = self.db.execute(f"SELECT {_CARD_COLUMNS} FROM card_state")
        return {row[0]: _card_from_row(row) for row in rows}

    def session_records(self, due_before: datetime) -> tuple[dict[str, CardRecord], DueDates]:
        """What a study session works from: the records of every card it may show (new,
        learning, suspended, or due for review before `due_before`), and for the others,
        in review and due later, only their due dates (key -> due): they are not new, and
        count only toward when the next card is due.

        On a large collection the first part is a few hundred rows of twenty thousand: a
        session starts without reading every card's state (benchmarks/README.md).
        """
        until = to_ms(due_before)
        self.db.execute("BEGIN")  # one snapshot for both reads
        try:
            rows = self.db.execute(
                f"SELECT {_CARD_COLUMNS} FROM card_state"
                " WHERE state != ? OR suspended OR due IS NULL OR due < ?",
                (int(CardState.REVIEW), until),
            )
            records = {row[0]: _card_from_row(row) for row in rows}
            later = self.db.execute(
                "SELECT key, due FROM card_state WHERE state = ? AND NOT suspended AND due >= ?",
                (int(CardState.REVIEW), until),
            )
            return records, DueDates(dict(later.fetchall()))
        finally:
            self.db.execute("COMMIT")

    def set_suspended(self, keys: Iterable[str], suspended: bool) -> int:
        """Suspend or unsuspend cards; returns how many changed."""
        changed = 0
        with self.write() as db:
            for key in keys:
                record = self.card(key) or CardRecord(key=key)
                if record.suspended != suspended:
                    _put_card(db, replace(record, suspended=suspended))
                    changed += 1
        return changed

    def set_leech(self, key: str, leech: bool, suspend: bool) -> None:
        with self.write() as db:
            record = self.card(key) or CardRecord(key=key)
            _put_card(db, replace(record, leech=leech, suspended=record.suspended or suspend))

    def replace_states(self, records: Iterable[CardRecord]) -> int:
        """Overwrite cards' states in one transaction (`drill reschedule` recomputes them
        from the log); the log is untouched. Returns how many were written."""
        count = 0
        with self.write() as db:
            for record in records:
                _put_card(db, record)
                count += 1
        return count

    # -- reviews ----------------------------------------------------------------------

    def record(self, review: Review, after: CardRecord) -> int:
        """Append a review and save the card's new state, in one transaction. Returns its id."""
        review_id, _, _ = self.record_answer(review.key, lambda _current: (review, after))
        return review_id

    def record_answer(
        self, key: str, grade: Callable[[CardRecord], tuple[Review, CardRecord]]
    ) -> tuple[int, CardRecord, CardRecord]:
        """Record a review computed from the card's current state, read inside the write
        transaction that records it: `grade(current)` returns the review and the new state.

        So a review made at the same time in another session is built upon, not overwritten:
        N sessions give the states of the same reviews made one after another.
        Returns (review id, state before, state after).
        """
        with self.write() as db:
            current = self.card(key)
            before = current or CardRecord(key=key)
            review, after = grade(before)
            cursor = db.execute(_INSERT_REVIEW, _review_row(review, current))
            _put_card(db, after)
            return int(cursor.lastrowid or 0), before, after

    def record_many(self, reviews: Iterable[tuple[Review, CardRecord]]) -> int:
        """Append many reviews in one transaction, exactly as record() would one at a time.

        For bulk loads (imports, benchmark collections): one commit instead of one per
        review. The reviews are appended in the order given. Returns how many were written.
        """
        latest: dict[str, CardRecord | None] = {}  # each card's state as of the last row

        def rows() -> Iterator[tuple]:
            for review, after in reviews:
                before = latest[review.key] if review.key in latest else self.card(review.key)
                latest[review.key] = after
                yield _review_row(review, before)

        with self.write() as db:
            count = db.executemany(_INSERT_REVIEW, rows()).rowcount
            # Only each card's final state matters: writing the others would be overwritten.
            for after in latest.values():
                if after is not None:
                    _put_card(db, after)
        return count

    def undo(self, review_id: int, now: datetime, key: str | None = None) -> str:
        """Take back a review: its card returns to the state it had before. Returns the key.

        With `key`, the review must be of that card (after a restore, the same id can belong
        to another card's review). A review followed by a later one of the same card is
        refused: undoing it would throw the later review's schedule away.
        """
        with self.write() as db:
            row = db.execute(
                "SELECT key, previous FROM review_log WHERE id = ?", (review_id,)
            ).fetchone()
            if row is None or (key is not None and row[0] != key):
                raise StoreError(
                    f"review {review_id}{f' of {key}' if key else ''} is not in {self.path} "
                    "(was the database restored?); nothing was undone"
                )
            if db.execute("SELECT 1 FROM undone WHERE review_id = ?", (review_id,)).fetchone():
                raise StoreError(f"review {review_id} was already undone")
            later = db.execute(
                "SELECT 1 FROM review_log r LEFT JOIN undone u ON u.review_id = r.id"
                " WHERE r.key = ? AND r.id > ? AND u.review_id IS NULL LIMIT 1",
                (row[0], review_id),
            ).fetchone()
            if later:
                raise StoreError(
                    f"{row[0]} was reviewed again since (in another session); nothing was undone"
                )
            card_key, previous = row
            db.execute(
                "INSERT INTO undone (review_id, undone_at) VALUES (?, ?)", (review_id, to_ms(now))
            )
            if previous is None:
                db.execute("DELETE FROM card_state WHERE key = ?", (card_key,))
            else:
                _put_card(db, CardRecord.from_dict(json.loads(previous)))
            return str(card_key)

    def check_writable(self) -> None:
        """Raise StoreError now if a review could not be saved (a read-only file or folder,
        a full disk), rather than after the user has answered a card.

        Rewriting user_version with its own value is a real write (a page goes to the WAL)
        that changes nothing drill reads.
        """
        try:
            self.db.execute("BEGIN IMMEDIATE")  # waits out another writer (busy timeout)
            try:
                version = self.db.execute("PRAGMA user_version").fetchone()[0]
                self.db.execute(f"PRAGMA user_version = {int(version)}")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
        except sqlite3.DatabaseError as error:
            raise StoreError(
                f"{self.path} cannot be written ({error}); no review would be saved"
            ) from None

    def reviews(self, key: str | None = None, include_undone: bool = False) -> list[Review]:
        """Reviews in time order, of one card or of all."""
        return list(self.iter_reviews(key, include_undone))

    def iter_reviews(
        self, key: str | None = None, include_undone: bool = False
    ) -> Iterator[Review]:
        where, args = [], []
        if key is not None:
            # A renamed card's history includes the reviews logged under its old keys.
            keys = self.history_keys(key)
            where.append(f"r.key IN ({', '.join('?' * len(keys))})")
            args.extend(keys)
        if not include_undone:
            where.append("u.review_id IS NULL")
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        cursor = self.db.execute(
            f"SELECT {_REVIEW_COLUMNS} FROM review_log r "
            f"LEFT JOIN undone u ON u.review_id = r.id {clause} ORDER BY r.reviewed_at, r.id",
            args,
        )
        for row in cursor:
            yield _review_from_row(row)

    def log_text(
        self, columns: Sequence[str], include_undone: bool = False, chunk: int = 5_000
    ) -> Iterator[tuple[list[str], list[str]]]:
        """The review log in time order for a text export, `chunk` rows at a time, as two
        lists of one length: the card key of each row as logged, and its values of
        `columns` (integer columns of the log) joined by commas, NULL written as nothing.

        SQLite does the work of each row. A chunk is one aggregate over a range of the time
        index, read in the index's order, that hands back two JSON arrays: the keys, and
        the rows' values. A Python object per row, or a printf per row, cost more than the
        rest (benchmarks/README.md). The ranges are found through the same index, all in
        one read transaction: together they are one snapshot of the log. Memory holds one
        chunk, however long the history.
        """
        unknown = [name for name in columns if name not in _LOG_INTEGER_COLUMNS]
        if unknown or not columns:
            raise ValueError(f"not integer columns of the review log: {unknown or columns}")
        if chunk < 1:
            raise ValueError(f"a chunk holds at least one row, not {chunk}")
        # A range runs from just after (at, id) to (end_at, end_id), in index order.
        after = "r.reviewed_at >= :at AND NOT (r.reviewed_at = :at AND r.id <= :id)"
        until = "r.reviewed_at <= :end_at AND NOT (r.reviewed_at = :end_at AND r.id > :end_id)"
        values = ", ".join(f"r.{name}" for name in columns)
        began = not self.db.in_transaction
        if began:
            self.db.execute("BEGIN")
        try:
            kept = ""  # most logs hold no undone review: then no row needs the check
            (any_undone,) = self.db.execute("SELECT EXISTS (SELECT 1 FROM undone)").fetchone()
            if any_undone and not include_undone:
                kept = " AND r.id NOT IN (SELECT review_id FROM undone)"
            ends = (
                f"SELECT r.reviewed_at, r.id FROM review_log r WHERE {after}{kept}"
                " ORDER BY r.reviewed_at, r.id LIMIT 1 OFFSET :skip"
            )
            text = (
                f"SELECT json_group_array(r.key), json_group_array(json_array({values}))"
                f" FROM review_log r INDEXED BY review_log_time WHERE {after} AND {until}{kept}"
            )
            bounds = {"at": -(2**63), "id": -(2**63), "skip": chunk - 1}
            while True:
                end = self.db.execute(ends, bounds).fetchone()  # None: the last chunk
                bounds["end_at"], bounds["end_id"] = end or (2**63 - 1, 2**63 - 1)
                keys, rows = self.db.execute(text, bounds).fetchone()
                if keys != "[]":
                    # Integers and nulls only: '[[1,2],[3,null]]' holds the rows '1,2' and '3,'.
                    lines = rows[2:-2].replace("null", "").split("],[")
                    yield json.loads(keys), lines
                if end is None:
                    return
                bounds["at"], bounds["id"] = end
        finally:
            if began:
                self.db.execute("COMMIT")

    def counts_since(self, since: datetime) -> tuple[int, int]:
        """(new cards introduced, review cards reviewed) since a moment; for daily limits."""
        row = self.db.execute(
            "SELECT"
            " COUNT(DISTINCT CASE WHEN r.state_before = 0 THEN r.key END),"
            " COUNT(DISTINCT CASE WHEN r.state_before = 2 THEN r.key END)"
            " FROM review_log r LEFT JOIN undone u ON u.review_id = r.id"
            " WHERE r.reviewed_at >= ? AND u.review_id IS NULL",
            (to_ms(since),),
        ).fetchone()
        return int(row[0]), int(row[1])

    def keys_reviewed_since(self, since: datetime) -> set[str]:
        """The keys of the cards reviewed since a moment (undone reviews left out): their
        sibling cards are buried until the next study day (drill.review.siblings)."""
        # Not DISTINCT: that would scan the whole log through the key index, while a day's
        # reviews are one range of the time index, and few.
        rows = self.db.execute(
            "SELECT r.key FROM review_log r LEFT JOIN undone u ON u.review_id = r.id"
            " WHERE r.reviewed_at >= ? AND u.review_id IS NULL",
            (to_ms(since),),
        )
        return {row[0] for row in rows}

    # -- renamed cards (`was:` in a deck) ----------------------------------------------
    # The review log stays append-only: old rows keep the key they were logged under, the
    # `renamed` table links an old key to the current one, and only the card_state row moves.

    def follow_renames(self, renames: Mapping[str, str], now: datetime | None = None) -> list[str]:
        """Carry history from old keys to the current ones (old key -> new key).

        Cheap when there is nothing new to link. Returns the old keys linked by this call.
        """
        linked = self.renamed()
        todo = {
            old: new
            for old, new in renames.items()
            if old != new and linked.get(old) != new and self._has_history(old)
        }
        if not todo:
            return []
        at = to_ms(now or datetime.now(UTC))
        with self.write() as db:
            for old, new in todo.items():
                # `new` is a current card again: a link from it would make a cycle.
                db.execute("DELETE FROM renamed WHERE old_key = ?", (new,))
                db.execute(
                    "INSERT OR REPLACE INTO renamed (old_key, new_key, renamed_at)"
                    " VALUES (?, ?, ?)",
                    (old, new, at),
                )
                # A card studied under its new key already keeps that state.
                if self.card(new) is None:
                    db.execute("UPDATE card_state SET key = ? WHERE key = ?", (new, old))
        return sorted(todo)

    def renamed(self) -> dict[str, str]:
        """Every old key linked to a newer one."""
        return dict(self.db.execute("SELECT old_key, new_key FROM renamed"))

    def history_keys(self, key: str) -> list[str]:
        """The key and every key it was renamed from, directly or through older renames."""
        sources: dict[str, list[str]] = {}
        for old, new in self.renamed().items():
            sources.setdefault(new, []).append(old)
        keys, todo = [key], [key]
        while todo:
            for old in sources.get(todo.pop(), []):
                if old not in keys:
                    keys.append(old)
                    todo.append(old)
        return keys

    def _has_history(self, key: str) -> bool:
        row = self.db.execute(
            "SELECT EXISTS (SELECT 1 FROM card_state WHERE key = ?)"
            " OR EXISTS (SELECT 1 FROM review_log WHERE key = ?)",
            (key, key),
        ).fetchone()
        return bool(row[0])

    def forget_deck(self, deck_id: str) -> tuple[int, int]:
        """Delete every trace of the deck's cards: their state, their reviews (undone ones
        too) and their renames; returns (cards, reviews) deleted. For `drill decks remove
        --purge`, the one deliberate exception to an append-only log: make a backup first.
        """
        # One deck's keys are the range [deck + "/", deck + "0"): "/" sorts just before "0".
        low, high = f"{deck_id}/", f"{deck_id}0"
        reviews = "SELECT id FROM review_log WHERE key >= ? AND key < ?"
        with self.write() as db:
            (count,) = db.execute(f"SELECT count(*) FROM ({reviews})", (low, high)).fetchone()
            db.execute(f"DELETE FROM review_retention WHERE review_id IN ({reviews})", (low, high))
            db.execute(f"DELETE FROM undone WHERE review_id IN ({reviews})", (low, high))
            db.execute("DELETE FROM review_log WHERE key >= ? AND key < ?", (low, high))
            cards = db.execute("DELETE FROM card_state WHERE key >= ? AND key < ?", (low, high))
            db.execute(
                "DELETE FROM renamed WHERE (new_key >= ? AND new_key < ?)"
                " OR (old_key >= ? AND old_key < ?)",
                (low, high, low, high),
            )
        return cards.rowcount, count

    def integrity_check(self) -> str:
        return str(self.db.execute("PRAGMA integrity_check").fetchone()[0])


_INSERT_REVIEW = (
    "INSERT INTO review_log (key, reviewed_at, rating, state_before, state_after, due_after,"
    " duration_ms, stability, difficulty, seed, answer, correct, previous)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _review_row(review: Review, before: CardRecord | None) -> tuple:
    """The review_log row of a review; `before` (the card's previous state) is kept for undo."""
    return (
        review.key,
        to_ms(review.reviewed_at),
        int(review.rating),
        int(review.state_before),
        int(review.state_after),
        to_ms(review.due_after),
        review.duration_ms,
        review.stability,
        review.difficulty,
        review.seed,
        review.answer,
        None if review.correct is None else int(review.correct),
        json.dumps(before.to_dict()) if before else None,
    )


def _use_wal(db: sqlite3.Connection) -> None:
    """Switch to WAL. Two processes creating the file at once can get "database is locked"
    here at once, without the busy timeout being waited out: try again, briefly."""
    for attempt in range(50):
        try:
            db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == 49:
                raise
            time.sleep(0.01)


def _put_card(db: sqlite3.Connection, record: CardRecord) -> None:
    db.execute(
        f"INSERT OR REPLACE INTO card_state ({_CARD_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (
            record.key,
            int(record.state),
            record.step,
            record.stability,
            record.difficulty,
            to_ms(record.due) if record.due else None,
            to_ms(record.last_review) if record.last_review else None,
            record.reps,
            record.lapses,
            int(record.suspended),
            int(record.leech),
        ),
    )


def _refuse_foreign_file(path: Path) -> None:
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not a database file; move it away or rename it")
    try:
        if not path.exists() or path.stat().st_size == 0:
            return
        if not has_sqlite_header(path):
            raise corrupt(path, "not an SQLite database")
    except OSError as error:
        raise StoreError(f"{path}: {error.strerror or error}") from None


def _make_folder(folder: Path) -> None:
    """The data folder, created if missing; a file in its place is one clear error."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise _not_a_folder(folder) from None
    except OSError as error:
        raise StoreError(f"cannot create {folder}: {error.strerror or error}") from None


def _refuse_non_folder(folder: Path) -> None:
    """The error _make_folder would give, without making anything: a file where the data
    folder, or a folder above it, should be."""
    for place in (folder, *folder.parents):
        if place.exists():
            if not place.is_dir():
                raise _not_a_folder(folder)
            return


def _not_a_folder(folder: Path) -> StoreError:
    return StoreError(
        f"{folder} is not a folder: drill keeps its database there (check DRILL_HOME)"
    )


# -- migrations ----------------------------------------------------------------------------

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    MIGRATIONS.append(fn)
    return fn


def schema_version(db: sqlite3.Connection) -> list[str]:
    exists = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'migrations'"
    ).fetchone()
    if not exists:
        return []
    return [row[0] for row in db.execute("SELECT name FROM migrations ORDER BY rowid")]


def pending_migrations(db: sqlite3.Connection) -> list[Migration]:
    done = set(schema_version(db))
    return [m for m in MIGRATIONS if m.__name__ not in done]


def migrate(db: sqlite3.Connection, path: Path) -> None:
    """Bring the schema up to date, or refuse the file and leave it untouched.

    A file of another program, or of a newer drill, is refused. Pending migrations are
    rehearsed on a copy in memory first: a database they would fail on is named in one
    error and left alone, and no backup of it is made (its copies would push good ones
    out). Last, the schema must hold every table, column, index and trigger this drill uses.
    """
    has_tables = _refuse_foreign(db, path)
    _refuse_newer(db, path)
    if pending_migrations(db):
        if has_tables:
            _rehearse(db, path)
            _before_migration(path, db)
        db.execute("BEGIN IMMEDIATE")
        try:
            _apply(db, pending_migrations(db))  # another process may have just migrated
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    missing = missing_schema(db)
    if missing:
        raise corrupt(path, f"it lacks {missing}")


def check_upgradable(db: sqlite3.Connection, path: Path) -> None:
    """What migrate() checks before it changes anything, on a database left as it is
    (for restore): StoreError naming `path` when drill could not use it."""
    _refuse_foreign(db, path)
    _refuse_newer(db, path)
    _rehearse(db, path)


def _refuse_foreign(db: sqlite3.Connection, path: Path) -> bool:
    """Refuse an SQLite file of another program; returns whether the file has any tables."""
    app_id = db.execute("PRAGMA application_id").fetchone()[0]
    has_tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
    if app_id != APPLICATION_ID and (app_id != 0 or has_tables):
        raise corrupt(path, "an SQLite file of another program")
    return has_tables


def _apply(db: sqlite3.Connection, steps: Iterable[Migration]) -> None:
    for step in steps:
        step(db)
        db.execute(
            "INSERT INTO migrations (name, applied_at) VALUES (?, ?)",
            (step.__name__, datetime.now(UTC).isoformat(timespec="seconds")),
        )


def _refuse_newer(db: sqlite3.Connection, path: Path) -> None:
    done = schema_version(db)
    known = {step.__name__ for step in MIGRATIONS}
    if any(name not in known for name in done):
        raise NewerDatabase(
            path,
            f"schema version {len(done)}, {done[-1]}; this drill knows up to version "
            f"{len(MIGRATIONS)}, {MIGRATIONS[-1].__name__}",
        )


def _rehearse(db: sqlite3.Connection, path: Path) -> None:
    copy = sqlite3.connect(":memory:", isolation_level=None)
    try:
        db.backup(copy)
        _apply(copy, pending_migrations(copy))
        missing = missing_schema(copy)
    except sqlite3.DatabaseError as error:
        raise corrupt(path, f"it cannot be upgraded: {error}") from None
    finally:
        copy.close()
    if missing:
        raise corrupt(path, f"it lacks {missing}")


SCHEMA_DIGEST = "fe78973dc47d7211"
"""schema_digest of the schema the migrations build (tests/test_migrations.py keeps it so):
a database whose schema has it holds everything, and the schema need not be built again
in memory to be compared item by item (~3 ms of every command's start)."""


def schema_digest(items: frozenset[str]) -> str:
    """CRC-32 and Adler-32 of the sorted items: a check against accidental difference,
    from zlib, which every start loads anyway (hashlib's OpenSSL takes ~5 ms to load)."""
    data = "\n".join(sorted(items)).encode()
    return f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}"


def missing_schema(db: sqlite3.Connection) -> str | None:
    """The tables, columns, indexes and triggers of the current schema that `db` lacks,
    named on one line (the first few), or None when it has them all."""
    have = _schema_of(db)
    if schema_digest(have) == SCHEMA_DIGEST:
        return None
    missing = _expected_schema(tuple(MIGRATIONS)) - have
    gone = {item.split(" ", 1)[1] for item in missing if item.startswith("table ")}
    # A missing table is named once, not again for each of its columns.
    missing = sorted(
        (
            item
            for item in missing
            if item.split(" ", 1)[1].split(".")[0] not in gone or item.startswith("table ")
        ),
        key=lambda item: (not item.startswith("table "), item),
    )
    if not missing:
        return None
    shown = ", ".join(missing[:3])
    return shown + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")


@cache
def _expected_schema(steps: tuple[Migration, ...]) -> frozenset[str]:
    """The schema the migrations build, read from a fresh database in memory (~1 ms), so
    it never needs writing down twice."""
    db = sqlite3.connect(":memory:", isolation_level=None)
    try:
        _apply(db, steps)
        return _schema_of(db)
    finally:
        db.close()


def _schema_of(db: sqlite3.Connection) -> frozenset[str]:
    rows = db.execute(
        "SELECT m.type, m.name, m.tbl_name, p.name FROM sqlite_master m"
        " LEFT JOIN pragma_table_info(m.name) p ON m.type = 'table'"
        " WHERE m.name NOT LIKE 'sqlite_%'"
    )
    items = set()
    for kind, name, table, column in rows:
        # A trigger goes with its table, as a column does: not named again when it is gone.
        items.add(f"trigger {table}.{name}" if kind == "trigger" else f"{kind} {name}")
        if column is not None:
            items.add(f"column {name}.{column}")
    return frozenset(items)


def _before_migration(path: Path, db: sqlite3.Connection) -> None:
    """A backup before the schema changes; when it cannot be made, nothing is migrated."""
    backup.before_migration(path, db)


@migration
def m001_initial(db: sqlite3.Connection) -> None:
    db.execute(
        "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    db.execute(
        """CREATE TABLE card_state (
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
        )"""
    )
    db.execute("CREATE INDEX card_state_due ON card_state (state, due)")
    db.execute(
        """CREATE TABLE review_log (
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
        )"""
    )
    db.execute("CREATE INDEX review_log_time ON review_log (reviewed_at)")
    db.execute("CREATE INDEX review_log_key ON review_log (key, reviewed_at)")
    db.execute(
        """CREATE TABLE undone (
            review_id INTEGER PRIMARY KEY REFERENCES review_log (id),
            undone_at INTEGER NOT NULL
        )"""
    )


@migration
def m002_renamed(db: sqlite3.Connection) -> None:
    """Links from the old key of a renamed card (`was:`) to its current key."""
    db.execute(
        """CREATE TABLE renamed (
            old_key TEXT PRIMARY KEY,
            new_key TEXT NOT NULL,
            renamed_at INTEGER NOT NULL
        )"""
    )


@migration
def m003_retention_log(db: sqlite3.Connection) -> None:
    """A narrow copy of each review of a card in the review state, for true retention.

    It holds what retention needs and the log row keeps only as JSON: the card's previous
    review and the due date it had then (the `previous` snapshot). Clustered by time, one
    study day is one range read, so `drill stats` stays fast on a million reviews. A
    trigger fills it as reviews are appended; the log itself is untouched.
    """
    db.execute(
        """CREATE TABLE review_retention (
            reviewed_at INTEGER NOT NULL,
            review_id INTEGER NOT NULL REFERENCES review_log (id),
            rating INTEGER NOT NULL,
            last_review INTEGER,
            due INTEGER,
            PRIMARY KEY (reviewed_at, review_id)
        ) WITHOUT ROWID"""
    )
    db.execute(
        """CREATE TRIGGER review_retention_fill AFTER INSERT ON review_log
        WHEN NEW.state_before = 2
        BEGIN
            INSERT INTO review_retention (reviewed_at, review_id, rating, last_review, due)
            VALUES (NEW.reviewed_at, NEW.id, NEW.rating,
                    json_extract(NEW.previous, '$.last_review'),
                    json_extract(NEW.previous, '$.due'));
        END"""
    )
    db.execute(
        "INSERT INTO review_retention (reviewed_at, review_id, rating, last_review, due)"
        " SELECT reviewed_at, id, rating, json_extract(previous, '$.last_review'),"
        " json_extract(previous, '$.due') FROM review_log WHERE state_before = 2"
    )


@migration
def m004_stats_by_deck(db: sqlite3.Connection) -> None:
    """Rebuild review_retention with the card key, and index graded compute answers.

    With the key in the copy, `drill stats DECK` filters retention without a join back to
    the log. The copy is derived from the log, so rebuilding it loses nothing.
    review_log_graded: the graded answers to compute cards, for accuracy per generator.
    """
    db.execute("DROP TRIGGER review_retention_fill")
    db.execute("DROP TABLE review_retention")
    db.execute(
        """CREATE TABLE review_retention (
            reviewed_at INTEGER NOT NULL,
            review_id INTEGER NOT NULL REFERENCES review_log (id),
            key TEXT NOT NULL,
            rating INTEGER NOT NULL,
            last_review INTEGER,
            due INTEGER,
            PRIMARY KEY (reviewed_at, review_id)
        ) WITHOUT ROWID"""
    )
    # One statement serves the trigger (p="NEW.") and the copy of the existing log (p="").
    copy = (
        "INSERT INTO review_retention (reviewed_at, review_id, key, rating, last_review, due)"
        " SELECT {p}reviewed_at, {p}id, {p}key, {p}rating,"
        " json_extract({p}previous, '$.last_review'), json_extract({p}previous, '$.due')"
    )
    db.execute(
        "CREATE TRIGGER review_retention_fill AFTER INSERT ON review_log"
        f" WHEN NEW.state_before = 2 BEGIN {copy.format(p='NEW.')}; END"
    )
    db.execute(f"{copy.format(p='')} FROM review_log WHERE state_before = 2")
    db.execute(
        "CREATE INDEX review_log_graded ON review_log (key, correct) WHERE correct IS NOT NULL"
    )


@migration
def m005_due_index_covers(db: sqlite3.Connection) -> None:
    """The due index carries `suspended` and the key: counting what is due reads the index
    alone, not each card's row (drill.review.due)."""
    db.execute("DROP INDEX card_state_due")
    db.execute("CREATE INDEX card_state_due ON card_state (state, due, suspended, key)")


@migration
def m007_state_changes(db: sqlite3.Connection) -> None:
    """A log of the keys whose card_state row changed, so a reader that keeps something
    derived from card state (the deck cache's list of new cards, drill.decks.index) can
    bring it up to date from the keys changed since, not by reading every card again.

    Every insert, update and delete of a row logs its key (both keys when a rename moves
    it), with a random `mark`: a copy of this file made later and changed apart (a backup
    restored) gets other marks for the same `seq`, so a reader that finds its last entry,
    seq and mark, knows this history up to it is the one it read. Only the newest
    CHANGES_KEPT entries are kept; a reader further behind reads everything again. The
    first entry marks this database itself: no reader has seen it yet.
    """
    db.execute(
        "CREATE TABLE state_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
        " key TEXT NOT NULL, mark INTEGER NOT NULL)"
    )
    logged = {  # (An INSERT OR REPLACE fires the insert trigger alone.)
        "state_inserted AFTER INSERT": "SELECT NEW.key AS k",
        "state_deleted AFTER DELETE": "SELECT OLD.key AS k",
        "state_updated AFTER UPDATE": "SELECT OLD.key AS k UNION SELECT NEW.key",
    }
    for trigger, keys in logged.items():
        db.execute(
            f"CREATE TRIGGER {trigger} ON card_state BEGIN INSERT INTO state_changes"
            f" (key, mark) SELECT k, random() FROM ({keys}); END"
        )
    db.execute(
        "CREATE TRIGGER state_changes_pruned AFTER INSERT ON state_changes"
        " WHEN NEW.seq % 1000 = 0 BEGIN"
        f" DELETE FROM state_changes WHERE seq <= NEW.seq - {CHANGES_KEPT}; END"
    )
    db.execute("INSERT INTO state_changes (key, mark) VALUES ('', random())")


CHANGES_KEPT = 20_000
"""How many entries of state_changes stay (see m007_state_changes)."""


migration(m008_stats_ranges)  # (its own module: drill/review/m008_stats_ranges.py)


DECK_OF_KEY = "substr(key, 1, instr(key, '/') - 1)"
"""A card's deck, from its key (`deck/card`): indexed by m009_due_by_deck, and a query
must write it so (any table alias aside) for SQLite to use that index."""


@migration
def m009_due_by_deck(db: sqlite3.Connection) -> None:
    """Card states by state, deck and due date: `drill due` counts each chosen deck's
    reviews due by tomorrow as a range of this index (drill.review.due), where sorting
    every card due into its deck cost ~15 ms at 100,000 cards (20,000 due)."""
    db.execute(
        f"CREATE INDEX card_state_deck_due ON card_state (state, {DECK_OF_KEY}, due,"
        " suspended, key)"
    )


@migration
def m010_trouble_indexes(db: sqlite3.Connection) -> None:
    """The cards with lapses, and the leeches, most lapses first: `drill stats` lists the
    hardest cards (the first few) and every leech in that order (drill.review.stats), and
    sorted every card that ever lapsed to do so (~0.1 s at 100,000 cards). Partial: only
    those cards are in them."""
    db.execute("CREATE INDEX card_state_lapsed ON card_state (lapses DESC, key) WHERE lapses > 0")
    db.execute("CREATE INDEX card_state_leeches ON card_state (lapses DESC, key) WHERE leech = 1")
