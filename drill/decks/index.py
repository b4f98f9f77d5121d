"""The study index: the selected decks' scheduled cards as keys SQLite can join with card
state, so that `drill due` and `drill study` count and queue in SQL (drill.review.due)
without reading every card.

A deck the parse cache holds is not read at all: its header says what choosing decks
needs, and its cards are rows of the cache's `study_keys` table, which the review
database attaches while it counts. A built-in deck the home's cache does not hold yet
comes from the wheel's table (drill.decks.shipped) with its header and rows, and is
decoded only if its cards are asked for. A deck that had to be parsed this time (edited,
new, or no usable cache) is in memory already. The keys of these last two go into a TEMP
table. Either way the same view, `selected`, comes out, and only the cards that are due
are turned back into Card values.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from drill.decks.cache import (
    SYNCHRONOUS,
    DeckCache,
    Header,
    Stamp,
    cache_path,
    card_from_fields,
    index_rows,
)
from drill.decks.curriculum import Curriculum, load_curriculum
from drill.decks.limits import MAX_DECK_BYTES
from drill.decks.loader import Collection, default_sources, load_deck, load_sources
from drill.decks.selection import no_card_has, resolve_deck_id, unknown_tag
from drill.decks.shipped import ShippedDeck
from drill.errors import DeckError
from drill.model import Card, Deck

_SYNC_WAIT_MS = 250  # for the cache's write lock, before counting the long way instead
_MAX_PARAMS = 500  # keys per query, within SQLite's limit on parameters
# Pages of the attached cache kept in memory (negative: KiB): a count over 100,000 keys
# reads its key index whole, ~4 MiB, more than SQLite's default 2 MiB cache.
_CACHE_KIB = -16384


@dataclass(frozen=True)
class _Entry:
    """One deck of the index: cached (read by its header), shipped (by the header and
    rows of the wheel's table) or parsed (in memory)."""

    id: str
    title: str
    path: str
    size: int
    renames: dict[str, str]
    digest: str | None = None  # cached, shipped: the version of the file its rows are for
    parsed: Deck | None = None
    shipped: ShippedDeck | None = None

    @cached_property
    def deck(self) -> Deck | None:
        """The deck in memory: parsed, or decoded from the wheel's table when first asked
        for (the index asks only for the cards it gives back); None for a cached deck.
        Should a shipped entry be damaged, the file is parsed: it is the very version the
        table was built from (same size and CRC-32)."""
        if self.shipped is None:
            return self.parsed
        decoded = self.shipped.decoded()
        return decoded.deck if decoded else load_deck(Path(self.path))

    def rows(self) -> list[tuple]:
        """The deck's rows of the study index (not for a cached deck: its rows are in the
        cache file)."""
        rows = self.shipped.index_rows(self.path) if self.shipped else None
        return rows if rows is not None else index_rows(self.path, self.deck)

    def tags(self) -> set[str]:
        """Every tag of the cards of a deck in memory or shipped, the deck's own included."""
        tags = self.shipped.tags() if self.shipped else None
        if tags is None and self.deck:
            tags = {tag for card in self.deck.cards for tag in (*self.deck.tags, *card.tags)}
        return tags or set()


@dataclass
class StudyIndex:
    """Every deck drill knows, by header and keys; a KeySource once decks are chosen."""

    cache_file: Path
    curriculum: Curriculum = field(default_factory=Curriculum)
    entries: list[_Entry] = field(default_factory=list)
    errors: list[DeckError] = field(default_factory=list)
    chosen: list[_Entry] = field(default_factory=list)
    tags: tuple[str, ...] = ()
    _keys: str = field(default="", init=False, repr=False)  # where attach found the keys

    # -- filled by the loader ----------------------------------------------------------

    def add_cached(self, header: Header, stamp: Stamp) -> None:
        entry = _Entry(
            header.id, header.title, stamp.path, header.size, header.renames, stamp.digest
        )
        self.entries.append(entry)

    def add_parsed(self, deck: Deck, stamp: Stamp | None) -> None:
        """A deck read this time; with its file's `stamp` when the cache may keep it."""
        from drill.decks.scheduled import renames_of, scheduled_cards  # (only for decks read)

        path, digest = (stamp.path, stamp.digest) if stamp else (str(deck.path or deck.id), None)
        size = len(scheduled_cards(deck.cards))
        entry = _Entry(deck.id, deck.title, path, size, renames_of(deck), digest, parsed=deck)
        self.entries.append(entry)

    def add_shipped(self, shipped: ShippedDeck, stamp: Stamp) -> None:
        """A built-in deck from the wheel's table: its rows go into the TEMP table, unless
        the cache file holds them by the time the keys are attached."""
        header = shipped.header
        entry = _Entry(
            header.id,
            header.title,
            stamp.path,
            header.size,
            header.renames,
            stamp.digest,
            shipped=shipped,
        )
        self.entries.append(entry)

    # -- what commands ask -------------------------------------------------------------

    def renames(self) -> dict[str, str]:
        return {old: new for entry in self.entries for old, new in entry.renames.items()}

    def warnings(self) -> list[str]:
        return Collection(errors=self.errors).warnings()

    def select(self, names: Sequence[str] = (), tags: Sequence[str] = ()) -> None:
        """Choose decks (ids or unique prefixes; all when none) and tags, as select_cards
        does, with the same errors."""
        stubs = Collection([Deck(entry.id, entry.title, ()) for entry in self.entries])
        ids = [resolve_deck_id(stubs, name) for name in names]
        by_id = {entry.id: entry for entry in self.entries}
        self.chosen = [by_id[i] for i in dict.fromkeys(ids)] if ids else list(self.entries)
        self.tags = tuple(dict.fromkeys(tags))
        if not self.tags:
            return
        known = self._tags_of(self.entries)
        for tag in self.tags:
            if tag not in known:
                raise unknown_tag(tag, known)
        if not set(self.tags) & self._tags_of(self.chosen):
            raise no_card_has(self.tags, ids)

    def _tags_of(self, entries: Iterable[_Entry]) -> set[str]:
        entries = list(entries)
        tags = {tag for entry in entries if entry.parsed or entry.shipped for tag in entry.tags()}
        paths = [entry.path for entry in entries if entry.parsed is None and not entry.shipped]
        if not paths:
            return tags
        with self._reader() as db:
            for start in range(0, len(paths), _MAX_PARAMS):
                chunk = paths[start : start + _MAX_PARAMS]
                rows = db.execute(
                    "SELECT DISTINCT j.value FROM study_keys k, json_each(k.tags) j"
                    f" WHERE k.path IN ({', '.join('?' * len(chunk))})",
                    chunk,
                )
                tags.update(row[0] for row in rows)
        return tags

    # -- KeySource (drill.review.due) --------------------------------------------------

    def deck_ids(self) -> list[str]:
        """The chosen decks that have a chosen card."""
        if not self.tags:
            return [entry.id for entry in self.chosen if entry.size]
        wanted = set(self.tags)
        return [entry.id for entry in self.chosen if wanted & self._tags_of([entry])]

    def attach(self, db: sqlite3.Connection) -> None:
        db.execute(
            "CREATE TEMP TABLE chosen (path TEXT PRIMARY KEY, deck_id TEXT, stage INTEGER,"
            " deckpos INTEGER, size INTEGER)"
        )
        db.executemany("INSERT INTO temp.chosen VALUES (?, ?, ?, ?, ?)", self._chosen_rows())
        cached = self._attach_cache(db)
        if len(cached) < len(self.chosen):
            # Some decks are not in the cache file (read from the wheel's table, a cache
            # that could not be written): every key goes into a TEMP table instead.
            self._copy_keys(db, cached)
            keys = "temp.keys"
        else:
            keys = "ix.study_keys"
        self._keys = keys
        db.execute("CREATE TEMP TABLE wanted_tags (tag TEXT PRIMARY KEY)")
        db.executemany("INSERT INTO temp.wanted_tags VALUES (?)", ((tag,) for tag in self.tags))
        db.execute(f"CREATE TEMP VIEW selected AS {_view(keys, bool(self.tags))}")

    def _attach_cache(self, db: sqlite3.Connection) -> set[str]:
        """Attach the cache file as `ix` when it may hold chosen decks; the paths of those
        whose keys it holds for the very version read."""
        wanted = {(entry.path, entry.digest) for entry in self.chosen if entry.digest}
        if not wanted or not self.cache_file.exists():
            return set()
        db.execute("ATTACH DATABASE ? AS ix", (str(self.cache_file),))
        db.execute(f"PRAGMA ix.cache_size = {_CACHE_KIB}")
        db.execute(f"PRAGMA ix.synchronous = {SYNCHRONOUS}")
        try:
            rows = db.execute("SELECT path, digest FROM ix.decks").fetchall()
        except sqlite3.Error:  # not a cache this drill can read: do without it
            db.execute("DETACH DATABASE ix")
            return set()
        return {path for path, digest in rows if (path, digest) in wanted}

    def _copy_keys(self, db: sqlite3.Connection, cached: set[str]) -> None:
        db.execute(
            "CREATE TEMP TABLE keys (key TEXT NOT NULL, path TEXT NOT NULL, deck_id TEXT,"
            " note TEXT, position INTEGER, multi INTEGER, tags TEXT, generator TEXT,"
            " PRIMARY KEY (key, path)) WITHOUT ROWID"  # (as study_keys: a fifth faster to fill)
        )
        # One transaction for every insert (a savepoint: the caller may be in one): on its
        # own, each row would be a transaction, five times slower for the built-in decks.
        db.execute("SAVEPOINT copy_keys")
        try:
            for entry in self.chosen:
                if entry.path in cached:
                    db.execute(
                        "INSERT INTO temp.keys SELECT * FROM ix.study_keys WHERE path = ?",
                        (entry.path,),
                    )
                elif entry.shipped or entry.parsed:
                    rows = entry.rows()
                    db.executemany("INSERT INTO temp.keys VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        except BaseException:
            db.execute("ROLLBACK TO copy_keys")
            raise
        finally:
            db.execute("RELEASE copy_keys")

    def new_keys(self, db: sqlite3.Connection, is_new: str) -> bool:
        """Views `fresh`, `stray_keys` and `chosen_decks` (see drill.review.due) from the
        cache's lists of the chosen files' new cards (`unseen`) and of their decks' card
        states that belong to no card (`strays`), brought up to date in the caller's
        transaction from the keys the store logged as changed since they were last read
        (`state_changes`, see drill.review.store.m007_state_changes). False when there are
        no such lists to keep: decks read afresh, a choice by tags, a cache that cannot be
        written now. `is_new`: the condition on the card's state row `s` (LEFT JOINed)
        that makes a card new."""
        if self._keys != "ix.study_keys" or self.tags:
            return False
        waits = db.execute("PRAGMA busy_timeout").fetchone()[0]
        db.execute(f"PRAGMA busy_timeout = {_SYNC_WAIT_MS}")  # not the store's long wait
        db.execute("SAVEPOINT kept_lists")
        try:
            _bring_lists_up_to_date(db, [entry.path for entry in self.chosen], is_new)
        except sqlite3.Error:  # busy, read-only, full: count the long way this time
            db.execute("ROLLBACK TO kept_lists")
            return False
        finally:
            db.execute("RELEASE kept_lists")
            db.execute(f"PRAGMA busy_timeout = {int(waits)}")
        db.execute(
            "CREATE TEMP VIEW fresh AS SELECT u.key, c.deck_id, c.stage,"
            " u.position * 1.0 / c.size AS frac, c.deckpos"
            " FROM temp.chosen c JOIN ix.unseen u ON u.path = c.path"
        )
        db.execute(
            "CREATE TEMP VIEW stray_keys AS SELECT s.key"
            " FROM temp.chosen c JOIN ix.strays s ON s.path = c.path"
        )
        db.execute("CREATE TEMP VIEW chosen_decks AS SELECT deck_id FROM temp.chosen")
        return True

    def detach(self, db: sqlite3.Connection) -> None:
        db.execute("DROP VIEW IF EXISTS temp.selected")
        for view in ("fresh", "stray_keys", "chosen_decks"):
            db.execute(f"DROP VIEW IF EXISTS temp.{view}")
        for table in ("chosen", "keys", "wanted_tags", "synced_paths"):
            db.execute(f"DROP TABLE IF EXISTS temp.{table}")
        if any(row[1] == "ix" for row in db.execute("PRAGMA database_list")):
            db.execute("DETACH DATABASE ix")

    def cards(self, keys: Iterable[str]) -> dict[str, Card]:
        from drill.decks.scheduled import scheduled, scheduled_cards

        wanted = set(keys)
        # A deck from the wheel's table is decoded only when one of its cards is asked for.
        asked = {key.partition("/")[0] for key in wanted}
        found: dict[str, Card] = {}
        for entry in self.chosen:
            deck = entry.deck if entry.parsed or (entry.shipped and entry.id in asked) else None
            if deck:
                found.update(
                    (card.key, card) for card in scheduled_cards(deck.cards) if card.key in wanted
                )
        rest = sorted(wanted - found.keys())
        paths = {entry.path for entry in self.chosen if entry.parsed is None and not entry.shipped}
        if rest and paths:
            with self._reader() as db:
                for start in range(0, len(rest), _MAX_PARAMS):
                    chunk = rest[start : start + _MAX_PARAMS]
                    rows = db.execute(
                        "SELECT c.path, c.key, k.deck_id, c.card FROM study_cards c"
                        " JOIN study_keys k ON k.key = c.key AND k.path = c.path"
                        f" WHERE c.key IN ({', '.join('?' * len(chunk))})",
                        chunk,
                    )
                    for path, key, deck_id, fields in rows:
                        if path in paths:
                            written = card_from_fields(deck_id, json.loads(fields))
                            found.update((c.key, c) for c in scheduled(written) if c.key == key)
        return found

    # -- helpers -----------------------------------------------------------------------

    def _chosen_rows(self) -> list[tuple]:
        unlisted = [e.id for e in self.chosen if not self.curriculum.place(e.id).listed]
        rows = []
        for entry in self.chosen:
            place = self.curriculum.place(entry.id)
            position = place.position + (0 if place.listed else unlisted.index(entry.id))
            rows.append((entry.path, entry.id, place.stage, position, max(1, entry.size)))
        return rows

    def _reader(self) -> _Reader:
        return _Reader(self.cache_file)


class _Reader:
    """A read-only connection to the cache file, closed on exit."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> sqlite3.Connection:
        try:
            self.db = sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True)
        except sqlite3.Error as error:
            raise _unreadable(self.path, error) from None
        return self.db

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        self.db.close()
        if isinstance(error, sqlite3.Error):  # gone or damaged since the decks were read
            raise _unreadable(self.path, error) from None


def _unreadable(path: Path, error: sqlite3.Error) -> DeckError:
    return DeckError(
        f"the deck cache cannot be read now ({error}); run the command again", str(path)
    )


def _bring_lists_up_to_date(db: sqlite3.Connection, paths: list[str], is_new: str) -> None:
    """Bring `ix.unseen` (the new cards of each deck file) and `ix.strays` (its deck's card
    states that belong to none of its cards) up to the store's newest logged change for
    these paths: for a path last brought to an entry the log still holds, with the same
    mark, only the keys changed since are looked at again; else all its keys and its
    deck's states (a range of the state table's keys: `deck/`)."""
    head = db.execute(
        "SELECT seq, mark FROM main.state_changes ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    if head is None:
        raise sqlite3.OperationalError("no state changes logged")  # not a current store
    synced = {row[0]: tuple(row[1:]) for row in db.execute("SELECT * FROM ix.unseen_synced")}
    behind: dict[int | None, list[str]] = {}  # since which seq (None: from scratch): paths
    known: dict[tuple, bool] = {}  # whether the log still holds this entry
    for path in paths:
        at = synced.get(path)
        if at == head:
            continue
        if at and at not in known:
            held = "SELECT 1 FROM main.state_changes WHERE seq = ? AND mark = ?"
            known[at] = db.execute(held, at).fetchone() is not None
        behind.setdefault(at[0] if at and known[at] else None, []).append(path)
    db.execute("CREATE TEMP TABLE IF NOT EXISTS synced_paths (path TEXT PRIMARY KEY)")
    for since, group in behind.items():
        db.execute("DELETE FROM temp.synced_paths")
        db.executemany("INSERT INTO temp.synced_paths VALUES (?)", ((path,) for path in group))
        in_group = "path IN (SELECT path FROM temp.synced_paths)"
        keys = "ix.study_keys k"
        states = (  # each chosen file's deck, and its card states: a range of their keys
            "temp.chosen c JOIN main.card_state s"
            " ON s.key >= c.deck_id || '/' AND s.key < c.deck_id || '0'"
        )
        if since is None:
            for table in ("unseen", "strays"):
                db.execute(f"DELETE FROM ix.{table} WHERE {in_group}")
        else:
            changed = f"SELECT key FROM main.state_changes WHERE seq > {int(since)}"
            for table in ("unseen", "strays"):
                db.execute(f"DELETE FROM ix.{table} WHERE {in_group} AND key IN ({changed})")
            keys = f"({changed}) ch JOIN ix.study_keys k ON k.key = ch.key"
            states = (
                f"({changed}) ch JOIN main.card_state s ON s.key = ch.key"
                " JOIN temp.chosen c ON c.deck_id = substr(s.key, 1, instr(s.key, '/') - 1)"
            )
        db.execute(
            "INSERT OR IGNORE INTO ix.unseen (path, key, position)"
            f" SELECT k.path, k.key, k.position FROM {keys}"
            " LEFT JOIN main.card_state s ON s.key = k.key"
            f" WHERE k.{in_group} AND ({is_new})"
        )
        # (The deck ids of the chosen files are in temp.chosen; a key is `deck/card`.)
        db.execute(
            "INSERT OR IGNORE INTO ix.strays (path, key) SELECT c.path, s.key"
            f" FROM {states} WHERE c.{in_group} AND NOT EXISTS"
            " (SELECT 1 FROM ix.study_keys k WHERE k.key = s.key AND k.path = c.path)"
        )
        db.executemany(
            "INSERT OR REPLACE INTO ix.unseen_synced VALUES (?, ?, ?)",
            ((path, *head) for path in group),
        )


def _view(keys: str, tagged: bool) -> str:
    """The SELECT of the view `selected` (see drill.review.due) over the key table `keys`.
    Without tags, a card's place in its deck's teaching order is its position over the
    deck's size; with tags, over the cards of its deck that have one of them."""
    columns = "k.key, k.deck_id, k.note, k.multi, k.generator, c.stage, c.deckpos"
    joined = f"temp.chosen c JOIN {keys} k ON k.path = c.path"
    if not tagged:
        return f"SELECT {columns}, k.position * 1.0 / c.size AS frac FROM {joined}"
    return (
        f"SELECT {columns}, (row_number() OVER w - 1) * 1.0"
        " / count(*) OVER (PARTITION BY k.path) AS frac"
        f" FROM {joined} WHERE EXISTS (SELECT 1 FROM json_each(k.tags) j"
        " WHERE j.value IN (SELECT tag FROM temp.wanted_tags))"
        " WINDOW w AS (PARTITION BY k.path ORDER BY k.position)"
    )


def load_index(extra: Sequence[Path] = (), max_bytes: int = MAX_DECK_BYTES) -> StudyIndex:
    """The study index of every deck from every source (drill.decks.loader.load_collection
    reads the same files): decks the cache holds by header, the others parsed."""
    with DeckCache() as cache:
        index = StudyIndex(cache_path(), load_curriculum(cache=cache))
        collection = load_sources(default_sources(extra), max_bytes, cache, index=index)
    index.errors = collection.errors
    return index
