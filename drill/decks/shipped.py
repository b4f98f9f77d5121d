"""The built-in decks as the wheel ships them, parsed: a new home's first command reads
them from here instead of parsing them (~150 ms of checks, with PyYAML's import).

The wheel's build hook (hatch_build.py at the project root) runs drill.decks.prebuilt on
the deck files it ships and puts the result beside them, `parsed-decks.json`: for each
file its size, its CRC-32, and three things the build computed and checked:

- `header`: the deck's header as the parse cache keeps it (drill.decks.cache.Header);
- `keys`: its rows of the study index (drill.decks.cache.index_rows), without the file's
  path, which is known only where the wheel is installed (see pack_keys);
- `deck`: the deck as the parse cache keeps it, zlib-compressed and in base64. As plain
  JSON strings the decks' text (a megabyte, with escapes on every line) was most of the
  time it took to read the table; compressed, the whole table, rows included, reads in
  about a fifth of the time it took before, and a deck is inflated only when its cards
  are needed.

So `drill due` in a brand-new home counts the built-in decks from their headers and rows
(drill.decks.index) without making one Card; a study session decodes the decks whose
cards it shows, and other commands (drill.decks.loader.load_collection) all of them.

A deck is read from that table only when the deck file beside it still has that size and
checksum, and the parsing modules are byte for byte those that built it; anything else
(an edited deck, a file missing from the table, a table from another drill, a damaged
one) is parsed as usual. A source checkout has no table: its decks are parsed, then
cached per home.
"""

from __future__ import annotations

import binascii
import json
import os
import zlib
from functools import cache
from pathlib import Path
from typing import Any

from drill.decks.cache import (
    _PARSER_MODULES,
    CACHE_FORMAT,
    CachedDeck,
    Header,
    Stamp,
    decode,
    decode_header,
)
from drill.home.paths import builtin_decks_dir

FILE_NAME = "parsed-decks.json"
LAYOUT = 2
"""The layout of the table's entries (above), bumped when it changes: a table written in
another layout is not read."""


def parser_fingerprint() -> str:
    """drill's version and the CRC-32 of each parsing module (as the cache names them): a
    table is used only by the parser that made it, whatever the files' dates."""
    from drill import __version__

    package = Path(__file__).parents[1]
    parts = [__version__]
    for name in _PARSER_MODULES:
        try:
            parts.append(f"{name}:{zlib.crc32((package / name).read_bytes()):08x}")
        except OSError:
            parts.append(f"{name}:?")
    return " ".join(parts)


class ShippedDeck:
    """One built-in deck as the wheel's table holds it: its header and study-index rows at
    hand, the deck itself decoded only when first asked for. A part that does not read
    back (a damaged table) is None: the caller then takes it from the file, parsed."""

    def __init__(self, file: Path, header: Header, header_text: str, keys: str, packed: str):
        self.file = file
        self.header = header
        self.header_text = header_text  # as the parse cache stores it
        self._keys = keys
        self._packed = packed
        self._decoded: CachedDeck | None = None

    def payload(self) -> str | None:
        """The deck's entry as the parse cache keeps it; None if it does not inflate."""
        try:
            return zlib.decompress(binascii.a2b_base64(self._packed)).decode("utf-8")
        except (ValueError, zlib.error):  # binascii.Error and UnicodeDecodeError included
            return None

    def decoded(self) -> CachedDeck | None:
        """The deck and where its id is written."""
        if self._decoded is None:
            payload = self.payload()
            self._decoded = decode(payload, self.file) if payload is not None else None
        return self._decoded

    def index_rows(self, path: str) -> list[tuple] | None:
        """The deck's rows of the study index for the file at `path`, as index_rows gives
        them."""
        return unpack_keys(self._keys, path, self.header.id)

    def tags(self) -> set[str] | None:
        """Every tag of the deck's cards, the deck's own included, as the rows hold them."""
        try:
            lists = json.loads(self._keys)["tags"]
            return {tag for text in lists for tag in json.loads(text)}
        except (ValueError, KeyError, TypeError):
            return None


def pack_keys(rows: list[tuple]) -> str:
    """A deck's `index_rows` as the table keeps them: JSON, each row [key, note (null when
    it is the key), multi (0/1), its tags (an index into the deck's distinct tag lists),
    generator], in order (a row's position is its place); path and deck id are left out."""
    tag_lists: dict[str, int] = {}
    packed = []
    for key, _path, _deck_id, note, _position, multi, tags, generator in rows:
        at = tag_lists.setdefault(tags, len(tag_lists))
        packed.append([key, None if note == key else note, int(multi), at, generator])
    return json.dumps({"tags": list(tag_lists), "rows": packed}, ensure_ascii=False)


def unpack_keys(text: str, path: str, deck_id: str) -> list[tuple] | None:
    """The rows pack_keys packed, for the file at `path`; None if they do not read back."""
    try:
        data = json.loads(text)
        tags = data["tags"]
        return [
            (key, path, deck_id, note or key, position, bool(multi), tags[at], generator)
            for position, (key, note, multi, at, generator) in enumerate(data["rows"])
        ]
    except (ValueError, KeyError, TypeError, IndexError):
        return None


def pack_deck(payload: str) -> str:
    """A deck's entry as the table keeps it: zlib-compressed, in base64."""
    return binascii.b2a_base64(zlib.compress(payload.encode("utf-8"), 9), newline=False).decode()


def shipped_entry(file: Path, stamp: Stamp) -> ShippedDeck | None:
    """The built-in deck `file` as the wheel's table holds it, if the table holds this
    very version of the file (`stamp`); None otherwise, and always outside the built-in
    folder."""
    table = (_table(os.path.dirname(stamp.path)) or {}).get("decks")
    entry = table.get(file.name) if table else None
    if (
        not isinstance(entry, dict)
        or entry.get("size") != stamp.size
        or entry.get("digest") != stamp.digest
    ):
        return None
    return read_entry(file, entry)


def read_entry(file: Path, entry: dict[str, Any]) -> ShippedDeck | None:
    """The table's `entry` for `file`; None when it is not one (a damaged table)."""
    header_text, keys, packed = (entry.get(name) for name in ("header", "keys", "deck"))
    if not (isinstance(header_text, str) and isinstance(keys, str) and isinstance(packed, str)):
        return None
    header = decode_header(header_text)
    return ShippedDeck(file, header, header_text, keys, packed) if header else None


def shipped_curriculum(file: Path, key: str) -> list | None:
    """The stages of the built-in curriculum `file` as the wheel's table holds them (the
    JSON drill.decks.curriculum keeps in the deck cache), when the table was built from
    the very file whose checksum is `key`; else None."""
    table = _table(os.path.dirname(os.path.abspath(file)))
    entry = table.get("curriculum") if table else None
    if not isinstance(entry, dict) or entry.get("key") != key:
        return None
    stages = entry.get("stages")
    return stages if isinstance(stages, list) else None


@cache
def _table(folder: str) -> dict[str, Any] | None:
    """The table, read once; None outside the built-in folder and for a missing,
    unreadable or foreign table."""
    builtin = builtin_decks_dir()
    if folder != os.path.abspath(builtin):
        return None
    try:
        table = json.loads((builtin / FILE_NAME).read_bytes())
    except (OSError, ValueError):
        return None
    if (
        not isinstance(table, dict)
        or table.get("format") != CACHE_FORMAT
        or table.get("layout") != LAYOUT
        or table.get("parser") != parser_fingerprint()
        or not isinstance(table.get("decks"), dict)
    ):
        return None
    return table
