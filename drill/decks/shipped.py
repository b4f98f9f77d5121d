"""The built-in decks as the wheel ships them, parsed: a new home's first command reads
them from here instead of parsing them (~150 ms of checks, with PyYAML's import).

The wheel's build hook (hatch_build.py at the project root) runs drill.decks.prebuilt on
the deck files it ships and puts the result beside them, `parsed-decks.json`: for each
file its size, its CRC-32 and the deck as the parse cache keeps it (drill.decks.cache).

A deck is read from that table only when the deck file beside it still has that size and
checksum, and the parsing modules are byte for byte those that built it; anything else
(an edited deck, a file missing from the table, a table from another drill, a damaged
one) is parsed as usual. A source checkout has no table: its decks are parsed, then
cached per home.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any
from zlib import crc32

from drill.decks.cache import _PARSER_MODULES, CACHE_FORMAT, CachedDeck, Stamp, decode
from drill.home.paths import builtin_decks_dir

FILE_NAME = "parsed-decks.json"


def parser_fingerprint() -> str:
    """drill's version and the CRC-32 of each parsing module (as the cache names them): a
    table is used only by the parser that made it, whatever the files' dates."""
    from drill import __version__

    package = Path(__file__).parents[1]
    parts = [__version__]
    for name in _PARSER_MODULES:
        try:
            parts.append(f"{name}:{crc32((package / name).read_bytes()):08x}")
        except OSError:
            parts.append(f"{name}:?")
    return " ".join(parts)


def shipped_deck(file: Path, stamp: Stamp) -> tuple[CachedDeck, str] | None:
    """The deck of the built-in deck `file` from the wheel's table, and its entry as the
    cache keeps it, if the table holds this very version of the file (`stamp`); None
    otherwise, and always outside the built-in folder."""
    table = _table(os.path.dirname(stamp.path))
    entry = table.get(file.name) if table else None
    if entry is None or entry["size"] != stamp.size or entry["digest"] != stamp.digest:
        return None
    cached = decode(entry["deck"], file)
    return (cached, entry["deck"]) if cached else None


@cache
def _table(folder: str) -> dict[str, Any] | None:
    """The table's entries by file name, read once; None outside the built-in folder and
    for a missing, unreadable or foreign table."""
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
        or table.get("parser") != parser_fingerprint()
        or not isinstance(table.get("decks"), dict)
    ):
        return None
    return table["decks"]
