"""Anki packages (.apkg) through genanki.

Identity is what makes a re-import update notes instead of duplicating them, so every id
is derived from drill ids and never drawn at random: the note type id from a fixed name,
each Anki deck id from the drill deck id, each note GUID from the entry key.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import itertools
import sqlite3
import sys
import time
import types
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from drill.exchange.anki_notes import note_fields, note_type_of, note_types
from drill.exchange.entries import Entry
from drill.exchange.html import markdown_html
from drill.model import Deck

NOTE_TYPE_NAME = "drill"
FIELDS = ("Question", "Answer", "Reference", "Key")

FRONT = '<div class="question">{{Question}}</div>'
BACK = """{{FrontSide}}
<hr id="answer">
<div class="answer">{{Answer}}</div>
{{#Reference}}<div class="reference">{{Reference}}</div>{{/Reference}}
<div class="key">{{Key}}</div>"""

# Colours are variables so that night mode only swaps the palette. Anki marks night mode
# with `.nightMode` (current versions) or `.night_mode` (older ones and AnkiDroid), on the
# card itself or on an element around it.
CSS = """\
.card {
  --fg: #1f2328; --bg: #fbfbf8; --muted: #6a6f76; --code-bg: rgba(127, 127, 127, 0.12);
  --rule: rgba(127, 127, 127, 0.35); --accent: #0b6bcb;
  font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", sans-serif;
  font-size: 19px; line-height: 1.5; text-align: left;
  color: var(--fg); background-color: var(--bg);
  max-width: 42em; margin: 0 auto; padding: 0 0.6em;
}
.card.nightMode, .card.night_mode, .nightMode .card, .night_mode .card {
  --fg: #e6e6e3; --bg: #1e1f22; --muted: #9aa0a6; --accent: #6cb6ff;
}
.question { font-weight: 600; }
.answer strong { color: var(--accent); }
code, pre { font-family: "SF Mono", Menlo, Consolas, "Liberation Mono", monospace; }
code { font-size: 0.92em; background: var(--code-bg); padding: 0.05em 0.3em; border-radius: 4px; }
pre { font-size: 0.85em; background: var(--code-bg); padding: 0.6em 0.8em; border-radius: 6px;
      white-space: pre-wrap; overflow-wrap: anywhere; font-weight: normal; }
pre code { background: none; padding: 0; }
hr#answer { border: none; border-top: 1px solid var(--rule); margin: 1em 0; }
table { border-collapse: collapse; }
th, td { border: 1px solid var(--rule); padding: 0.2em 0.6em; }
.reference, .key { color: var(--muted); font-size: 0.75em; margin-top: 1.2em; }
.key { font-family: "SF Mono", Menlo, Consolas, monospace; margin-top: 0.3em; }
"""


def stable_id(*parts: str) -> int:
    """An id in genanki's recommended range [2**30, 2**31), the same for the same parts."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return (1 << 30) + int.from_bytes(digest[:8], "big") % (1 << 30)


def anki_deck_name(deck: Deck) -> str:
    # `::` nests decks in Anki; inside a title it would split the deck in two.
    return f"drill::{deck.title.replace('::', ':')}"


def anki_tags(entry: Entry) -> list[str]:
    """Anki tags are space-separated, so spaces inside a tag become underscores."""
    return list(_tags(entry.card.tags, entry.deck.tags))


@functools.lru_cache(maxsize=4096)
def _tags(card_tags: tuple[str, ...], deck_tags: tuple[str, ...]) -> tuple[str, ...]:
    # Kept: the cards of a deck share its tags, and the exercises of a card all of them.
    tags = ("_".join(tag.split()) for tag in dict.fromkeys((*card_tags, *deck_tags)))
    return tuple(dict.fromkeys(tag for tag in tags if tag))


def anki_guid(key: str) -> str:
    """genanki.guid_for(key): the first 8 bytes of the key's SHA-256 as a number, written
    in Anki's base 91 (a fifteenth of genanki's time, which counts on 20,000 notes): two
    digits at a time, from a table of every pair."""
    number = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    digits, pairs = _base91()
    text = ""
    while number >= BASE91_PAIRS:
        number, low = divmod(number, BASE91_PAIRS)
        text = pairs[low] + text
    if number >= len(digits):
        return pairs[number] + text
    return digits[number] + text if number else text


BASE91_PAIRS = 91 * 91


@functools.cache
def _base91() -> tuple[str, tuple[str, ...]]:
    """Anki's base-91 digits, and every two-digit string in the order of its value."""
    digits = "".join(import_genanki().util.BASE91_TABLE)
    return digits, tuple(high + low for high in digits for low in digits)


def import_genanki() -> Any:
    """genanki, imported without asyncio and the ssl module it loads (some 55 ms of an
    export's start-up), nor PyYAML until a note type is given as YAML text (15 ms).

    genanki takes `cached_property` from the package of that name, which imports asyncio
    to serve coroutines; genanki caches two plain values with it (a note type's required
    fields, a note's cards), which the standard library's `functools.cached_property`
    caches the same way. So while genanki is imported, and only then, that name stands
    for a module holding the standard one (unless the package is loaded already). Its
    `yaml` stands for a module that imports PyYAML on first use (drill's note types are
    lists, so an export never does)."""
    if "genanki" in sys.modules or "cached_property" in sys.modules:
        import genanki

        return genanki
    stand_in = types.ModuleType("cached_property")
    stand_in.cached_property = functools.cached_property  # type: ignore[attr-defined]
    stand_ins = {"cached_property": stand_in}
    if "yaml" not in sys.modules:
        stand_ins["yaml"] = _ImportedOnUse("yaml")
    sys.modules.update(stand_ins)
    try:
        import genanki
    finally:
        for name, module in stand_ins.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]
    return genanki


class _ImportedOnUse(types.ModuleType):
    """Stands for the module of its name, which it imports when an attribute is asked
    (by then the real module's name is free in sys.modules again)."""

    def __getattr__(self, attribute: str) -> Any:
        import importlib

        return getattr(importlib.import_module(self.__name__), attribute)


def render_apkg(entries: Iterable[Entry], *, timestamp: float | None = None) -> tuple[bytes, int]:
    """The package as bytes (one Anki deck per drill deck), and the number of notes in it.

    `timestamp` is the notes' modification time. Anki updates a note on re-import only
    when the package's copy is newer, so it defaults to now.
    """
    genanki = import_genanki()
    models = note_types(genanki, _note_type(genanki), stable_id, CSS)
    anki_decks: dict[str, _AnkiDeck] = {}
    count = 0
    for entry in entries:
        deck = anki_decks.get(entry.deck.id)
        if deck is None:
            deck = anki_decks[entry.deck.id] = _AnkiDeck(_anki_deck(genanki, entry.deck))
        deck.add(_note(models, entry))
        count += 1
    stamp = time.time() if timestamp is None else timestamp
    return _package_bytes(genanki, list(anki_decks.values()), stamp), count


class _Note(NamedTuple):
    """What genanki's Note writes: its note type, fields, tags and GUID."""

    model: Any
    fields: list[str]
    tags: list[str]
    guid: str


@dataclass(frozen=True)
class _AnkiDeck:
    """A genanki Deck (its JSON in the collection) and its notes, written in bulk."""

    deck: Any
    notes: list[_Note] = field(default_factory=list)

    def add(self, note: _Note) -> None:
        # genanki records each note type a deck uses, in order of first use.
        self.deck.add_model(note.model)
        self.notes.append(note)


def _note_type(genanki: Any) -> Any:
    return genanki.Model(
        stable_id("drill-note-type", NOTE_TYPE_NAME),
        NOTE_TYPE_NAME,
        fields=[{"name": name} for name in FIELDS],
        templates=[{"name": "Recall", "qfmt": FRONT, "afmt": BACK}],
        css=CSS,
    )


def _anki_deck(genanki: Any, deck: Deck) -> Any:
    description = markdown_html(deck.description) if deck.description else ""
    return genanki.Deck(stable_id("drill-deck", deck.id), anki_deck_name(deck), description)


def _note(models: dict[str, Any], entry: Entry) -> _Note:
    """A note of the type its card needs: cloze, typed and reversed cards have their own."""
    name = note_type_of(entry, NOTE_TYPE_NAME)
    return _Note(models[name], note_fields(entry, name), anki_tags(entry), anki_guid(entry.key))


def _package_bytes(genanki: Any, decks: list[_AnkiDeck], timestamp: float) -> bytes:
    # The collection is built in memory: genanki's own write_to_file would leave its
    # temporary database behind in the system's temp folder.
    connection = sqlite3.connect(":memory:")
    try:
        cursor = connection.cursor()
        ids = itertools.count(int(timestamp * 1000))
        genanki.Package([]).write_to_db(cursor, timestamp, ids)  # the schema and `col`
        with _indexes_built_after(cursor):
            for deck in decks:
                deck.deck.write_to_db(cursor, timestamp, ids)  # its JSON and its note types'
                _write_notes(genanki, cursor, deck, timestamp, ids)
        connection.commit()
        database = connection.serialize()
    finally:
        connection.close()
    buffer = io.BytesIO()
    # The fastest deflate: a fourth of the default level's time on 20,000 notes, for a
    # file 15 % larger (benchmarks/README.md).
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("collection.anki2", database)
        archive.writestr("media", "{}")
    return buffer.getvalue()


@contextlib.contextmanager
def _indexes_built_after(cursor: Any) -> Iterator[None]:
    """The schema's indexes are dropped inside and made again, in their order, on leaving:
    built once over the rows, as a bulk load builds them, rather than kept up to date row
    by row (a fifth of the inserts' time on 20,000 notes). The same database results."""
    indexes = cursor.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        "ORDER BY rowid"
    ).fetchall()
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    yield
    for _, sql in indexes:
        cursor.execute(sql)


def _write_notes(
    genanki: Any, cursor: Any, deck: _AnkiDeck, timestamp: float, ids: Iterator[int]
) -> None:
    """The rows genanki's Note.write_to_db writes, the same ids in the same order, in two
    bulk inserts instead of a statement per note and per card (a third of the package's
    time on 20,000 notes)."""
    modified = int(timestamp)
    notes, cards = [], []
    for note in deck.notes:
        if len(note.fields) != len(note.model.fields):
            raise ValueError(f"note type {note.model.name!r} needs {len(note.model.fields)} fields")
        note_id = next(ids)
        notes.append(
            (
                note_id,
                note.guid,
                note.model.model_id,
                modified,
                -1,  # usn
                " " + " ".join(note.tags) + " ",
                "\x1f".join(note.fields),
                note.fields[note.model.sort_field_index],
                0,  # checksum
                0,  # flags
                "",  # data
            )
        )
        for ord_ in _card_ords(genanki, note):
            # id, note, deck, ord, mod, usn, type, queue, due, ivl, factor, reps, lapses,
            # left, odue, odid, flags, data: a new card, as genanki writes it.
            cards.append(
                (next(ids), note_id, deck.deck.deck_id, ord_, modified, -1) + (0,) * 11 + ("",)
            )
    cursor.executemany("INSERT INTO notes VALUES(?,?,?,?,?,?,?,?,?,?,?);", notes)
    cursor.executemany("INSERT INTO cards VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?);", cards)


def _card_ords(genanki: Any, note: _Note) -> list[int]:
    """The templates that give the note a card, as genanki decides them."""
    model = note.model
    if model.model_type == model.CLOZE:
        return [card.ord for card in genanki.Note(model=model, fields=note.fields).cards]
    fields = note.fields
    return [
        ord_
        for ord_, any_or_all, required in model._req
        # One required field (most templates): any() and all() agree on it.
        if (
            fields[required[0]]
            if len(required) == 1
            else (any if any_or_all == "any" else all)(fields[i] for i in required)
        )
    ]
