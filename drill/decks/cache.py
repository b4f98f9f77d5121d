"""A cache of parsed decks, so an unchanged deck file is not parsed and checked again.

Each valid deck is stored as JSON under its file's path, with the file's size,
modification time and content hash; all four must match for the entry to be used, so an
edited file is parsed again even when its size and mtime happen to stay the same. The
hash is CRC-32: a checksum made to catch accidental changes, which is what an edit is
(nobody gains by fooling their own cache), and zlib loads in a tenth of the time hashlib
takes to load OpenSSL, at every start (benchmarks/README.md).

The cache is its own SQLite file in the data dir, not a table of the review database:
it is disposable (deleting it loses nothing), it stays out of the daily backups, a cache
write never waits for a study session's lock, and damage to it cannot reach the review
history. Every failure here (an unreadable, locked or corrupt cache, a bad entry) only
means the deck is parsed as if there were no cache: the cache is never fatal.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple
from zlib import crc32

from drill.home.paths import get_paths
from drill.model import Card, CardType, Deck

CACHE_FORMAT = 1
"""Bumped whenever the JSON layout below changes; older entries are then dropped."""
FILE_NAME = "deck-cache.db"
_APPLICATION_ID = 0x44524C43  # "DRLC": a drill deck cache, not a review database
_BUSY_TIMEOUT_S = 0.5  # a cache that is busy is skipped, not waited for
# The modules whose rules decide what a valid deck parses to: editing one (or upgrading
# drill) must invalidate every entry, or the cache would keep yesterday's verdicts.
_PARSER_MODULES = (  # relative to the drill package
    "decks/cache.py",
    "decks/check.py",
    "decks/reader.py",
    "decks/loader.py",
    "model.py",
    "exercises/registry.py",  # which generator names a compute card may use
    "decks/check_code.py",
    "exercises/code/registry.py",  # which exercise names a code card may use
    "decks/check_types.py",  # cloze, choice and typed-answer cards, with the two below
    "decks/cloze.py",
    "decks/markup.py",
)


def cache_path() -> Path:
    return get_paths().data_dir / FILE_NAME


class Position(NamedTuple):
    """Where a deck's id is written, for the error about two files claiming one id."""

    line: int
    column: int


class Stamp(NamedTuple):
    """What identifies one version of a deck file."""

    path: str
    size: int
    mtime_ns: int
    digest: str


@dataclass(frozen=True)
class CachedDeck:
    deck: Deck
    id_position: Position | None


def stamp_file(path: Path, max_bytes: int) -> Stamp | None:
    """The file's stamp, or None when it cannot be cached (not a regular file, too large,
    unreadable, or changing while read): the caller then parses it as usual."""
    try:
        info = path.stat()
        # Hashing a pipe would consume what the parser must read; an oversized file is
        # refused by the parser, with its own message.
        if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if len(data) != info.st_size:
        return None
    return Stamp(os.path.abspath(path), info.st_size, info.st_mtime_ns, f"{crc32(data):08x}")


class DeckCache:
    """Parsed decks by file. Use as a context manager: new entries are written on exit.

    A cache that could not be opened is still a DeckCache: it finds nothing, keeps nothing.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or cache_path()
        self._pending: dict[str, tuple[Stamp, str]] = {}
        self.db = _connect(self.path) if path or _home_in_use() else None

    def __enter__(self) -> DeckCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, file: Path, stamp: Stamp) -> CachedDeck | None:
        """The deck parsed from exactly this version of `file`, if it is cached."""
        if self.db is None:
            return None
        try:
            row = self.db.execute(
                "SELECT size, mtime_ns, digest, deck FROM decks WHERE path = ?", (stamp.path,)
            ).fetchone()
        except sqlite3.Error:
            return None
        if row is None or tuple(row[:3]) != stamp[1:]:
            return None
        return decode(row[3], file)

    def put(self, stamp: Stamp, deck: Deck, id_position: Position | None) -> None:
        """Remember a freshly parsed deck (written when the cache is closed)."""
        payload = encode(deck, id_position)
        # Only what reads back identically is kept, so a hit equals a fresh parse.
        if _same(decode(payload, deck.path or Path(stamp.path)), deck):
            self._pending[stamp.path] = (stamp, payload)

    def close(self) -> None:
        db, self.db = self.db, None
        if db is None:
            return
        try:
            if self._pending:
                _write(db, [(*stamp, payload) for stamp, payload in self._pending.values()])
        except sqlite3.Error:
            pass  # locked or damaged: these decks are parsed again next time
        finally:
            self._pending.clear()
            db.close()


def _write(db: sqlite3.Connection, rows: list[tuple[str, int, int, str, str]]) -> None:
    """New entries in one transaction, and entries of files that are gone removed."""
    with _transaction(db):
        db.executemany(
            "INSERT OR REPLACE INTO decks (path, size, mtime_ns, digest, deck)"
            " VALUES (?, ?, ?, ?, ?)",
            rows,
        )
        rows_now = db.execute("SELECT path FROM decks").fetchall()
        gone = [(path,) for (path,) in rows_now if not os.path.exists(path)]
        db.executemany("DELETE FROM decks WHERE path = ?", gone)


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    # The connection is in autocommit mode: without BEGIN each statement would commit alone.
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


# -- the file ------------------------------------------------------------------------------


def _home_in_use() -> bool:
    """Whether drill keeps a database here: a home it has never used is left untouched."""
    paths = get_paths()
    return paths.database.exists() or cache_path().exists()


def _connect(path: Path) -> sqlite3.Connection | None:
    """An open, current cache; a damaged file is replaced; None when there can be no cache
    this time (locked by another process, read-only folder, ...)."""
    for attempt in range(2):
        try:
            return _open_current(path)
        except sqlite3.OperationalError:  # busy, locked, read-only: not damage
            return None
        except sqlite3.DatabaseError:  # not a database, or not one of ours: only a cache
            if attempt or not _remove(path):
                return None
        except (sqlite3.Error, OSError):
            return None
    return None


def _open_current(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
    try:
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
        fingerprint = _fingerprint()
        if app_id == _APPLICATION_ID and _stored_fingerprint(db) == fingerprint:
            return db
        if app_id not in (0, _APPLICATION_ID):
            raise sqlite3.DatabaseError("not a deck cache")
        db.execute("PRAGMA journal_mode = WAL")  # readers never wait for a writer
        with _transaction(db):
            if _stored_fingerprint(db) != fingerprint:  # another process may have just done it
                _create(db, fingerprint)
        return db
    except BaseException:
        db.close()
        raise


def _stored_fingerprint(db: sqlite3.Connection) -> str | None:
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'fingerprint'").fetchone()
    except sqlite3.OperationalError:  # no such table: a new file
        return None
    return row[0] if row else None


def _create(db: sqlite3.Connection, fingerprint: str) -> None:
    """A fresh, empty cache for this version of the parser (older entries are dropped)."""
    db.execute("DROP TABLE IF EXISTS decks")
    db.execute("DROP TABLE IF EXISTS meta")
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute(
        """CREATE TABLE decks (
            path TEXT PRIMARY KEY,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            digest TEXT NOT NULL,
            deck TEXT NOT NULL
        )"""
    )
    db.execute("INSERT INTO meta (key, value) VALUES ('fingerprint', ?)", (fingerprint,))
    db.execute(f"PRAGMA application_id = {_APPLICATION_ID}")


def _remove(path: Path) -> bool:
    """Delete a file that is not a usable cache (it holds nothing else); True if gone."""
    for suffix in ("", "-wal", "-shm"):
        try:
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        except OSError:
            return False
    return True


def _fingerprint() -> str:
    from drill import __version__

    package = Path(__file__).parents[1]
    parts = [str(CACHE_FORMAT), __version__]
    for name in _PARSER_MODULES:
        try:
            info = (package / name).stat()
            parts.append(f"{name}:{info.st_size}:{info.st_mtime_ns}")
        except OSError:
            parts.append(f"{name}:?")
    return " ".join(parts)


# -- the JSON of one deck ------------------------------------------------------------------


def encode(deck: Deck, id_position: Position | None) -> str:
    return json.dumps(
        {
            "id": deck.id,
            "title": deck.title,
            "description": deck.description,
            "tags": list(deck.tags),
            "id_position": list(id_position) if id_position else None,
            "cards": [_card_fields(card) for card in deck.cards],
        },
        ensure_ascii=False,
    )


def _card_fields(card: Card) -> list[Any]:
    # A list, not a mapping: a fifth smaller, and quicker to read back for 20,000 cards.
    return [
        card.id,
        card.q,
        card.a,
        card.type.value,
        card.tags,
        card.ref,
        card.generator,
        dict(card.params),
        card.was,
        card.line,
        _type_fields(card),
    ]


def _type_fields(card: Card) -> dict[str, Any]:
    """The fields of the cloze, choice and typed-answer card types, only those set."""
    fields = {
        "text": card.text,
        "choices": card.choices,
        "answers": card.answers,
        "multiple": card.multiple,
        "type_answer": card.type_answer,
        "accept": card.accept,
        "reverse": card.reverse,
    }
    return {name: value for name, value in fields.items() if value not in ("", (), False, None)}


def decode(payload: str, path: Path) -> CachedDeck | None:
    """The deck in an entry, or None for an entry that does not read back (never raises)."""
    try:
        data = json.loads(payload)
        deck_id = data["id"]
        cards = tuple(_card(deck_id, fields) for fields in data["cards"])
        deck = Deck(
            id=deck_id,
            title=data["title"],
            cards=cards,
            description=data["description"],
            tags=tuple(data["tags"]),
            path=path,
        )
        position = Position(*data["id_position"]) if data["id_position"] else None
    except (ValueError, KeyError, TypeError):
        return None
    return CachedDeck(deck, position)


_CARD_TYPES = {card_type.value: card_type for card_type in CardType}


def _card(deck_id: str, fields: list[Any]) -> Card:
    card_id, q, a, card_type, tags, ref, generator, params, was, line, typed = fields
    for name in ("choices", "answers", "accept"):
        if name in typed:
            typed[name] = tuple(typed[name])
    return Card(
        deck_id=deck_id,
        id=card_id,
        q=q,
        a=a,
        type=_CARD_TYPES[card_type],
        tags=tuple(tags),
        ref=ref,
        generator=generator,
        params=params,
        was=tuple(was),
        line=line,
        **typed,  # the fields of cloze, choice and typed-answer cards
    )


def _same(cached: CachedDeck | None, deck: Deck) -> bool:
    """Equal decks, card positions and param types included: dataclass equality leaves
    positions out, and takes 2.0 for 2 and True for 1, which generators do not."""
    return (
        cached is not None
        and cached.deck == deck
        and [_exact(card) for card in cached.deck.cards] == [_exact(card) for card in deck.cards]
    )


def _exact(card: Card) -> tuple[int | None, str]:
    return card.line, repr(dict(card.params))
