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

Beside each deck the cache keeps its header (`Header`: id, title, tags, size, renames),
one row per scheduled card in `study_keys` (key, note, position, tags) and the written
cards' fields in `study_cards`. `drill due` and `drill study` attach these tables to the
review database and count in SQL (drill.decks.index), so a large collection is not read
card by card at each start.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple, Protocol
from zlib import crc32

from drill.home.paths import get_paths
from drill.model import Card, CardType, Deck

CACHE_FORMAT = 4
"""Bumped whenever the JSON layout below changes; older entries are then dropped."""
FILE_NAME = "deck-cache.db"
_APPLICATION_ID = 0x44524C43  # "DRLC": a drill deck cache, not a review database
_BUSY_TIMEOUT_S = 0.5  # a cache that is busy is skipped, not waited for
# A file changed this long before it was read for its entry is known by size and mtime
# (DeckCache.settled): longer than any file system's timestamp resolution (FAT: 2 s).
_SETTLED_NS = 3_000_000_000
SYNCHRONOUS = "NORMAL"
"""How hard a write to the cache waits for the disk: in WAL mode, NORMAL writes never leave
the file damaged, and a crash may lose the last writes, which the cache makes again (the
review database, which must keep every review, waits for each commit: FULL)."""
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
    "decks/scheduled.py",  # the scheduled cards (keys) of the study index
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
    hashed_ns: int = 0  # when the file was read to compute `digest` (time.time_ns)


class CachedDeck(NamedTuple):
    deck: Deck
    id_position: Position | None


class _Pending(NamedTuple):
    """An entry to write: a parsed deck (`deck`, its rows computed when written), or a
    built-in deck from the wheel's table (`rows` as the table holds them)."""

    stamp: Stamp
    payload: str
    header: str
    deck: Deck | None = None
    rows: list[tuple] | None = None  # study_card_rows: study_keys' columns, the card last


class Shipped(Protocol):
    """A deck entry built and checked ahead (drill.decks.shipped.ShippedDeck); a part
    that does not read back is None."""

    header_text: str

    def payload(self) -> str | None: ...

    def index_rows(self, path: str) -> list[tuple] | None: ...


class Header(NamedTuple):
    """A cached deck without its cards: what choosing and counting cards needs."""

    id: str
    title: str
    tags: tuple[str, ...]
    size: int  # scheduled cards
    renames: dict[str, str]  # old key -> current key (see renames_of)
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
        hashed_ns = time.time_ns()
        data = path.read_bytes()
    except OSError:
        return None
    if len(data) != info.st_size:
        return None
    digest = f"{crc32(data):08x}"
    return Stamp(os.path.abspath(path), info.st_size, info.st_mtime_ns, digest, hashed_ns)


class DeckCache:
    """Parsed decks by file. Use as a context manager: new entries are written on exit.

    A cache that could not be opened is still a DeckCache: it finds nothing, keeps nothing.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or cache_path()
        self._pending: dict[str, _Pending] = {}
        self._settling: list[Stamp] = []  # entries checksummed again, now found settled
        self._by_path: dict[str, tuple] | None = None  # see _stamps
        self._notes: dict[str, str] = {}  # see note
        self.db = _connect(self.path) if path or _home_in_use() else None

    def __enter__(self) -> DeckCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, file: Path, stamp: Stamp) -> CachedDeck | None:
        """The deck parsed from exactly this version of `file`, if it is cached."""
        payload = self._entry(stamp, "deck")
        return decode(payload, file) if payload is not None else None

    def header(self, stamp: Stamp) -> Header | None:
        """The header of the deck cached for exactly this version of a file, if any."""
        text = self._entry(stamp, "header")
        return decode_header(text) if text is not None else None

    def _entry(self, stamp: Stamp, column: str) -> str | None:
        """`column` (deck or header) of the entry for exactly this version of a file."""
        if self.db is None:
            return None
        try:
            row = self.db.execute(
                f"SELECT size, mtime_ns, digest, hashed_ns, {column} FROM decks WHERE path = ?",
                (stamp.path,),
            ).fetchone()
        except sqlite3.Error:
            return None
        if row is None or tuple(row[:3]) != stamp[1:4]:
            return None
        if _is_settled(stamp.mtime_ns, stamp.hashed_ns) and not _is_settled(row[1], row[3]):
            # Read within the window of its last change when cached (a deck written just
            # before drill ran), checksummed again now, well after: known by stat from now on.
            self._settling.append(stamp)
        return row[4]

    def settled(self, file: Path, max_bytes: int) -> tuple[Header, Stamp] | None:
        """The header and stamp of a cached deck found by the file's size and modification
        time alone, without reading it: only when the file was last changed well before
        it was read for its entry (as git trusts its index). An edit made since then gives
        the file a later modification time; one made within the clock's resolution of that
        read could keep it, and such files are read and checksummed as usual."""
        if self.db is None:
            return None
        try:
            info = file.stat()
            if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
                return None
            path = os.path.abspath(file)
            row = self._stamps().get(path)
        except (OSError, sqlite3.Error):
            return None
        if row is None or row[:2] != (info.st_size, info.st_mtime_ns):
            return None
        digest, hashed_ns, header_text = row[2:]
        if not _is_settled(info.st_mtime_ns, hashed_ns):
            return None
        header = decode_header(header_text)
        stamp = Stamp(path, info.st_size, info.st_mtime_ns, digest, hashed_ns)
        return (header, stamp) if header else None

    def _stamps(self) -> dict[str, tuple]:
        """Every entry's stamp and header by path, read in one query (headers are small)."""
        if self._by_path is None and self.db is not None:
            rows = self.db.execute(
                "SELECT path, size, mtime_ns, digest, hashed_ns, header FROM decks"
            )
            self._by_path = {row[0]: row[1:] for row in rows}
        return self._by_path or {}

    def put(self, stamp: Stamp, deck: Deck, id_position: Position | None) -> None:
        """Remember a freshly parsed deck (written when the cache is closed)."""
        if self.db is None:
            return  # no cache this time: nothing would be written
        payload = encode(deck, id_position)
        # Only what reads back identically is kept, so a hit equals a fresh parse.
        if _same(decode(payload, deck.path or Path(stamp.path)), deck):
            header = encode_header(deck, id_position)
            self._pending[stamp.path] = _Pending(stamp, payload, header, deck=deck)

    def put_shipped(self, stamp: Stamp, shipped: Shipped) -> None:
        """Remember a built-in deck read from the wheel's table (drill.decks.shipped), with
        the header and study-index rows the table holds: all checked when the table was
        built, so no card is made to write it."""
        if self.db is None:
            return
        payload, keys = shipped.payload(), shipped.index_rows(stamp.path)
        if payload is None or keys is None:
            return  # a damaged entry: not kept, the deck is parsed next time
        try:
            rows = list(written_card_rows(payload, keys))
        except (ValueError, KeyError, TypeError):
            return
        self._pending[stamp.path] = _Pending(stamp, payload, shipped.header_text, rows=rows)

    def noted(self, key: str) -> str | None:
        """What `note` kept under `key` (a derived value of a small file, such as the parsed
        curriculum under its checksum), if the cache holds it."""
        if self.db is None:
            return None
        try:
            row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            return None
        return row[0] if row else None

    def note(self, key: str, value: str) -> None:
        """Keep `value` under `key` (written when the cache is closed). Other notes of the
        same kind (the words of `key` before its last) are dropped then."""
        if self.db is not None:
            self._notes[key] = value

    def close(self) -> None:
        db, self.db = self.db, None
        if db is None:
            return
        try:
            if self._pending:
                _write(db, list(self._pending.values()))
            if self._settling:
                _settle(db, self._settling)
            if self._notes:
                _keep_notes(db, self._notes)
        except sqlite3.Error:
            pass  # locked or damaged: these decks are parsed again next time
        finally:
            self._pending.clear()
            db.close()


def _keep_notes(db: sqlite3.Connection, notes: dict[str, str]) -> None:
    with _transaction(db):
        for key, value in notes.items():
            kind = key.rsplit(" ", 1)[0]
            db.execute("DELETE FROM meta WHERE key LIKE ? || ' %'", (kind,))
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))


def _is_settled(mtime_ns: int, hashed_ns: int) -> bool:
    """Whether a file read at `hashed_ns` had last changed well before: an edit after that
    read gives it a later modification time, however coarse the clock."""
    return mtime_ns < hashed_ns - _SETTLED_NS


def _settle(db: sqlite3.Connection, stamps: list[Stamp]) -> None:
    """Record a later checksum time for entries that still hold exactly these versions."""
    with _transaction(db):
        db.executemany(
            "UPDATE decks SET hashed_ns = ? WHERE path = ? AND size = ? AND mtime_ns = ?"
            " AND digest = ?",
            ((stamp.hashed_ns, *stamp[:4]) for stamp in stamps),
        )


def _write(db: sqlite3.Connection, entries: list[_Pending]) -> None:
    """New entries in one transaction, and entries of files that are gone removed."""
    with _transaction(db):
        rows_now = db.execute("SELECT path FROM decks").fetchall()
        gone = [path for (path,) in rows_now if not os.path.exists(path)]
        for stamp, payload, header, deck, rows in entries:
            db.execute(
                "INSERT OR REPLACE INTO decks"
                " (path, size, mtime_ns, digest, hashed_ns, header, deck)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (*stamp, header, payload),
            )
            _forget_keys(db, stamp.path)
            if rows is None and deck is not None:
                rows = list(study_card_rows(deck, index_rows(stamp.path, deck)))
            db.executemany(
                "INSERT INTO study_keys VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (row[:8] for row in rows or ()),
            )
            db.executemany(
                "INSERT INTO study_cards VALUES (?, ?, ?)",
                ((key, path, card) for key, path, *_, card in rows or ()),
            )
        for path in gone:
            db.execute("DELETE FROM decks WHERE path = ?", (path,))
            _forget_keys(db, path)


def _forget_keys(db: sqlite3.Connection, path: str) -> None:
    for table in ("study_keys", "study_cards", "unseen", "strays", "unseen_synced"):
        db.execute(f"DELETE FROM {table} WHERE path = ?", (path,))


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
        db.execute(f"PRAGMA synchronous = {SYNCHRONOUS}")
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
    for table in (
        "decks",
        "meta",
        "study_keys",
        "study_cards",
        "unseen",
        "strays",
        "unseen_synced",
    ):
        db.execute(f"DROP TABLE IF EXISTS {table}")
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute(
        """CREATE TABLE decks (
            path TEXT PRIMARY KEY,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            digest TEXT NOT NULL,
            hashed_ns INTEGER NOT NULL,
            header TEXT NOT NULL,
            deck TEXT NOT NULL
        )"""
    )
    # Narrow rows in key order: counting joins every key with the card states. `multi`
    # marks the cards of notes scheduled as several (siblings), a few of the many.
    db.execute(
        """CREATE TABLE study_keys (
            key TEXT NOT NULL,
            path TEXT NOT NULL,
            deck_id TEXT NOT NULL,
            note TEXT NOT NULL,
            position INTEGER NOT NULL,
            multi INTEGER NOT NULL,
            tags TEXT NOT NULL,
            generator TEXT,
            PRIMARY KEY (key, path)
        ) WITHOUT ROWID"""
    )
    db.execute("CREATE INDEX study_keys_path ON study_keys (path, position)")
    db.execute("CREATE INDEX study_keys_member ON study_keys (key, deck_id)")  # narrow: probes
    db.execute("CREATE INDEX study_keys_multi ON study_keys (note) WHERE multi")
    # Which of a file's keys are new cards, and which card states of its deck belong to no
    # card of it (`strays`: cards deleted or renamed since), derived from the review
    # database's card state (drill.decks.index.StudyIndex.new_keys), and the entry of the
    # store's log of state changes they were last brought up to. Derived lists: deleting
    # them loses nothing.
    db.execute(
        """CREATE TABLE unseen (
            path TEXT NOT NULL,
            key TEXT NOT NULL,
            position INTEGER NOT NULL,
            PRIMARY KEY (path, key)
        ) WITHOUT ROWID"""
    )
    db.execute(
        "CREATE TABLE strays (path TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (path, key))"
        " WITHOUT ROWID"
    )
    db.execute(
        "CREATE TABLE unseen_synced (path TEXT PRIMARY KEY, seq INTEGER NOT NULL,"
        " mark INTEGER NOT NULL)"
    )
    db.execute(
        """CREATE TABLE study_cards (
            key TEXT NOT NULL,
            path TEXT NOT NULL,
            card TEXT NOT NULL,
            PRIMARY KEY (key, path)
        ) WITHOUT ROWID"""
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
        cards = tuple(card_from_fields(deck_id, fields) for fields in data["cards"])
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


def card_from_fields(deck_id: str, fields: list[Any]) -> Card:
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


# -- the header and the study keys ----------------------------------------------------------


def encode_header(deck: Deck, id_position: Position | None) -> str:
    from drill.decks.scheduled import renames_of, scheduled_cards

    return json.dumps(
        {
            "id": deck.id,
            "title": deck.title,
            "tags": list(deck.tags),
            "size": len(scheduled_cards(deck.cards)),
            "renames": renames_of(deck),
            "id_position": list(id_position) if id_position else None,
        },
        ensure_ascii=False,
    )


def decode_header(text: str) -> Header | None:
    try:
        data = json.loads(text)
        position = Position(*data["id_position"]) if data["id_position"] else None
        return Header(
            data["id"],
            data["title"],
            tuple(data["tags"]),
            data["size"],
            dict(data["renames"]),
            position,
        )
    except (ValueError, KeyError, TypeError):
        return None


def index_rows(path: str, deck: Deck) -> list[tuple]:
    """The rows of `study_keys` for a deck: one per scheduled card, in deck order: key,
    path, deck id, note, position, multi (its note schedules several), its tags (the
    deck's, then its own, as JSON) and a compute card's generator."""
    from drill.decks.scheduled import scheduled

    rows: list[tuple] = []
    tag_lists: dict[tuple[str, ...], str] = {}  # most cards share a few sets of tags
    for card in deck.cards:
        tags = tag_lists.get(card.tags)
        if tags is None:
            merged = list(dict.fromkeys((*deck.tags, *card.tags)))
            tags = tag_lists[card.tags] = json.dumps(merged, ensure_ascii=False)
        items = scheduled(card)
        for item in items:
            generator = card.generator if card.type is CardType.COMPUTE else None
            multi = len(items) > 1
            rows.append((item.key, path, deck.id, item.note_key, len(rows), multi, tags, generator))
    return rows


def study_card_rows(deck: Deck, keys: list[tuple]) -> Iterator[tuple]:
    """`keys` (index_rows) each with its written card's fields as JSON, last."""
    fields = {
        card.note_key: json.dumps(_card_fields(card), ensure_ascii=False) for card in deck.cards
    }
    for row in keys:
        yield (*row, fields[row[3]])


def written_card_rows(payload: str, keys: list[tuple]) -> Iterator[tuple]:
    """study_card_rows from a deck's entry (`payload`, as encode wrote it) instead of its
    cards: each written card's fields are in the entry already, in the same JSON."""
    data = json.loads(payload)
    deck_id = data["id"]
    fields = {
        f"{deck_id}/{card[0]}": json.dumps(card, ensure_ascii=False) for card in data["cards"]
    }
    for row in keys:
        yield (*row, fields[row[3]])


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
