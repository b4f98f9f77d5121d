"""Parse and check the built-in decks at build time: the table drill.decks.shipped reads.

    python -m drill.decks.prebuilt DECKS_FOLDER OUT_FILE

The wheel's build hook (hatch_build.py) runs this on the decks it ships, with the parser
of the very tree it builds. Every deck is checked: a broken built-in deck, or two with
one id, fails the build instead of shipping. Each deck's header and study-index rows are
computed here too, so that a new home counts its cards without decoding them; every entry
is read back as drill will read it, and kept only if it gives the very deck, header and
rows (drill.decks.shipped).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from zlib import crc32

from drill.decks.cache import (
    CACHE_FORMAT,
    Position,
    _same,
    encode,
    encode_header,
    index_rows,
)
from drill.decks.curriculum import CURRICULUM_FILE, curriculum_key, load_curriculum, stages_json
from drill.decks.limits import MAX_DECK_BYTES
from drill.decks.loader import _check, deck_files, load_sources
from drill.decks.shipped import (
    LAYOUT,
    pack_deck,
    pack_keys,
    parser_fingerprint,
    read_entry,
    unpack_keys,
)
from drill.errors import DeckError
from drill.model import Deck


class BrokenBuiltinDeck(Exception):
    """A built-in deck has errors: the wheel must not be built with it."""


def build(folder: Path) -> str:
    """The table of every deck file in `folder`, parsed and checked, as JSON text.

    Raises BrokenBuiltinDeck naming every error when the decks do not load cleanly."""
    files = deck_files([folder])
    loaded = load_sources(files)  # no cache: every file parsed and checked, ids compared
    if loaded.errors:
        raise BrokenBuiltinDeck("\n".join(str(error) for error in loaded.errors))
    decks = {}
    for file in files:
        checked = _check(file, MAX_DECK_BYTES)  # the deck with where its id is written
        if checked.deck is None:
            continue
        node = checked.id_node
        position = Position(node.line, node.column) if node else None
        payload = encode(checked.deck, position)
        data = file.read_bytes()
        entry = {
            "size": len(data),
            "digest": f"{crc32(data):08x}",
            "header": encode_header(checked.deck, position),
            "keys": pack_keys(index_rows("", checked.deck)),
            "deck": pack_deck(payload),
        }
        if _reads_back(entry, file, checked.deck):  # (if not, it is parsed at run time)
            decks[file.name] = entry
    table = {
        "format": CACHE_FORMAT,
        "layout": LAYOUT,
        "parser": parser_fingerprint(),
        "decks": decks,
    }
    curriculum = folder / CURRICULUM_FILE
    if curriculum.is_file():  # parsed too: a new home reads no TOML (drill.decks.curriculum)
        data = curriculum.read_bytes()
        try:
            parsed = load_curriculum(curriculum)
        except DeckError as error:  # a broken curriculum fails the build, as a deck does
            raise BrokenBuiltinDeck(str(error)) from None
        table["curriculum"] = {"key": curriculum_key(data), "stages": stages_json(parsed)}
    return json.dumps(table, ensure_ascii=False, sort_keys=True)


def _reads_back(entry: dict, file: Path, deck: Deck) -> bool:
    """Whether drill.decks.shipped reads this entry back as exactly `deck`: its header,
    its study-index rows and its cards, field for field."""
    shipped = read_entry(file, entry)
    if shipped is None:
        return False
    path = str(file.absolute())
    rows = index_rows(path, deck)
    return (
        shipped.header.size == len(rows)
        and unpack_keys(entry["keys"], path, deck.id) == rows
        and _same(shipped.decoded(), deck)
    )


def main(argv: list[str]) -> int:
    """`python -m drill.decks.prebuilt DECKS_FOLDER OUT_FILE`, as the build hook runs it."""
    if len(argv) != 2:
        print("usage: python -m drill.decks.prebuilt DECKS_FOLDER OUT_FILE", file=sys.stderr)
        return 2
    folder, out = Path(argv[0]), Path(argv[1])
    try:
        text = build(folder)
    except BrokenBuiltinDeck as error:
        print(f"built-in decks with errors:\n{error}", file=sys.stderr)
        return 1
    out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
