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
import json
import sqlite3
import sys
import time
import types
import zipfile
from collections.abc import Iterable, Iterator, Sequence
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
    in Anki's base 91 (`anki_guids` does a deck's keys at once)."""
    return anki_guids([key])[0]


def anki_guids(keys: Sequence[str]) -> list[str]:
    """anki_guid of each key, at under half the cost of genanki's guid_for (which counts
    on 20,000 notes)."""
    sha256, pairs = hashlib.sha256, _base91_pairs()
    return [_base91(int.from_bytes(sha256(k.encode()).digest()[:8], "big"), pairs) for k in keys]


def base91_text(number: int) -> str:
    """A number below 2⁶⁴ in Anki's base 91, as genanki writes a GUID's number ("" for 0)."""
    return _base91(number, _base91_pairs())


def _base91(number: int, pairs: tuple[str, ...]) -> str:
    # Ten digits hold any number below 2⁶⁴: they are written two at a time, from the table
    # of every pair, and the leading zero digits ("a") are taken off again (a number's own
    # leading digit is never zero).
    number, e = divmod(number, BASE91_PAIRS)
    number, d = divmod(number, BASE91_PAIRS)
    number, c = divmod(number, BASE91_PAIRS)
    a, b = divmod(number, BASE91_PAIRS)
    return (pairs[a] + pairs[b] + pairs[c] + pairs[d] + pairs[e]).lstrip(pairs[0][0])


BASE91_PAIRS = 91 * 91


@functools.cache
def _base91_pairs() -> tuple[str, ...]:
    """Every two-digit string of Anki's base 91, in the order of its value."""
    digits = "".join(import_genanki().util.BASE91_TABLE)
    return tuple(high + low for high in digits for low in digits)


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
    """What genanki's Note writes: its note type, fields and tags, and the key its GUID
    comes from (the GUIDs of a deck's notes are worked out together)."""

    model: Any
    fields: list[str]
    tags: list[str]
    key: str


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
    return _Note(models[name], note_fields(entry, name), anki_tags(entry), entry.key)


def _package_bytes(genanki: Any, decks: list[_AnkiDeck], timestamp: float) -> bytes:
    # The collection is built in memory: genanki's own write_to_file would leave its
    # temporary database behind in the system's temp folder.
    connection = sqlite3.connect(":memory:")
    try:
        cursor = connection.cursor()
        ids = itertools.count(int(timestamp * 1000))
        genanki.Package([]).write_to_db(cursor, timestamp, ids)  # the schema and `col`
        _write_decks_json(cursor, decks, timestamp)
        with _indexes_built_after(cursor):
            for deck in decks:
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


def _write_decks_json(cursor: Any, decks: list[_AnkiDeck], timestamp: float) -> None:
    """The collection's `decks` and `models` JSON as genanki's Deck.write_to_db leaves
    them after writing each deck in turn, read and written once rather than once per deck
    (which read, grew and wrote both texts again for each of the 81 decks of a large
    export).

    Deck by deck, genanki loads the note types' JSON (string keys), adds the deck's note
    types under their integer ids and writes it back: an id already there then appears
    twice in the text, and loading it again keeps one entry, where the first was, with
    the newer value. So up to the last deck, the same dictionary by string keys; the
    text is that of the last deck's update, its duplicates included."""
    (decks_text,) = cursor.execute("SELECT decks FROM col").fetchone()
    (models_text,) = cursor.execute("SELECT models FROM col").fetchone()
    decks_json = json.loads(decks_text)
    models_json = json.loads(models_text)
    last: dict[Any, Any] = {}
    for deck in decks:
        genanki_deck = deck.deck
        decks_json[str(genanki_deck.deck_id)] = genanki_deck.to_json()
        models_json.update((str(model_id), value) for model_id, value in last.items())
        last = {
            model.model_id: model.to_json(timestamp, genanki_deck.deck_id)
            for model in genanki_deck.models.values()
        }
    if decks:
        cursor.execute(
            "UPDATE col SET decks = ?, models = ?",
            (json.dumps(decks_json), json.dumps({**models_json, **last})),
        )


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
    """The rows genanki's Note.write_to_db writes, the same ids in the same order, in bulk
    instead of a statement per note and per card (a third of the package's time on 20,000
    notes). What every row of the deck shares is written into the statement rather than
    bound row by row: the same values are stored.

    Most notes have one card, of the first template: its id is the note's plus one (the
    next id drawn), so SQLite makes those cards from the notes' rows itself; only the
    cards of other notes (cloze, reversed, typed with a reverse) are bound one by one."""
    modified = int(timestamp)
    notes, cards, others = [], [], []
    guids = anki_guids([note.key for note in deck.notes])
    for note, guid in zip(deck.notes, guids, strict=True):
        model, fields = note.model, note.fields
        if len(fields) != len(model.fields):
            raise ValueError(f"note type {model.name!r} needs {len(model.fields)} fields")
        note_id = next(ids)
        tags = " " + " ".join(note.tags) + " "
        sort_field = fields[model.sort_field_index]
        notes.append((note_id, guid, model.model_id, tags, "\x1f".join(fields), sort_field))
        ords = _card_ords(genanki, note)
        if ords == [0]:
            next(ids)  # the card's id: note_id + 1
        else:
            others.append(note_id)
            cards += [(next(ids), note_id, ord_) for ord_ in ords]
    if not notes:
        return
    # notes: id, guid, note type, mod, usn, tags, fields, sort field, checksum, flags, data
    cursor.executemany(f"INSERT INTO notes VALUES(?,?,?,{modified},-1,?,?,?,0,0,'');", notes)
    # cards: id, note, deck, ord, mod, usn, type, queue, due, ivl, factor, reps, lapses,
    # left, odue, odid, flags, data: a new card, as genanki writes it.
    new_card = f"{deck.deck.deck_id},{{ord}},{modified},-1,0,0,0,0,0,0,0,0,0,0,0,''"
    leave_out = f" AND id NOT IN ({','.join(map(str, others))})" if others else ""
    cursor.execute(
        f"INSERT INTO cards SELECT id + 1, id, {new_card.format(ord=0)} FROM notes "
        f"WHERE id BETWEEN {notes[0][0]} AND {notes[-1][0]}{leave_out};"
    )
    cursor.executemany(f"INSERT INTO cards VALUES(?,?,{new_card.format(ord='?')});", cards)


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
