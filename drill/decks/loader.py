"""Decks: where they come from, loading them, and the collection every command reads.

A bad file never blocks the others: it turns into errors and the remaining decks load.
Validation itself lives in deck_check (the rules) and deck_yaml (safe, bounded YAML).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol

from drill.decks.cache import DeckCache, Header, Position, Stamp, stamp_file
from drill.decks.limits import MAX_DECK_BYTES
from drill.decks.shipped import ShippedDeck, shipped_entry
from drill.errors import DeckError, UnknownCard, UnknownDeck
from drill.home.paths import builtin_decks_dir, env_deck_dirs, get_paths
from drill.model import Card, Deck

if TYPE_CHECKING:
    from drill.decks.reader import Node

# deck_check and deck_yaml (and PyYAML with them) are imported where a file is parsed:
# decks read back from the parse cache need neither, which keeps `drill due` fast.

DECK_SUFFIXES = (".yaml", ".yml")

__all__ = [
    "MAX_DECK_BYTES",
    "Collection",
    "check_deck",
    "deck_files",
    "default_sources",
    "load_collection",
    "load_deck",
    "load_sources",
]


def check_deck(path: Path, max_bytes: int = MAX_DECK_BYTES) -> tuple[Deck | None, list[DeckError]]:
    """Parse one deck file and collect every error in it; the deck is None if there is any."""
    checked = _check(path, max_bytes)
    return checked.deck, checked.errors


def load_deck(path: Path, max_bytes: int = MAX_DECK_BYTES) -> Deck:
    """The deck in `path`; raises the file's first DeckError."""
    deck, errors = check_deck(path, max_bytes)
    if deck is None:  # check_deck returns no deck exactly when it found errors
        raise errors[0]
    return deck


class _Checked(NamedTuple):
    deck: Deck | None
    errors: list[DeckError]
    id_node: Node | Position | None = None  # where the deck id is, to place duplicate-id errors


def _check(path: Path, max_bytes: int, check_params: bool = False) -> _Checked:
    from drill.decks.check import DeckChecker
    from drill.decks.reader import read_tree

    try:
        root = read_tree(path, max_bytes)
    except DeckError as error:
        return _Checked(None, [error])
    checker = DeckChecker(path, check_params)
    deck = checker.deck(root)
    errors = sorted(checker.errors, key=lambda e: (e.line or 0, e.column or 0))
    return _Checked(deck if not errors else None, errors, checker.id_node)


# Where decks come from


def default_sources(extra: Sequence[Path] = ()) -> list[Path]:
    """Built-in decks, the user's decks folder, DRILL_DECKS folders, then `extra` (--decks)."""
    sources = [
        folder for folder in (builtin_decks_dir(), get_paths().user_decks) if folder.is_dir()
    ]
    return [*sources, *env_deck_dirs(), *extra]


def deck_files(paths: Iterable[Path]) -> list[Path]:
    """Files as given, folders expanded to their *.yaml and *.yml files (sorted), no repeats."""
    seen: set[object] = set()
    files = []
    for path in paths:
        files += _new_files(_expand(path), seen)
    return files


def _expand(path: Path) -> list[Path]:
    if path.is_dir():
        try:
            with os.scandir(path) as entries:
                # Dot-files are editor backups and lock files, not decks. (A directory
                # entry knows whether it is a file without a stat, unless it is a link.)
                names = sorted(
                    entry.name
                    for entry in entries
                    if os.path.splitext(entry.name)[1].lower() in DECK_SUFFIXES
                    and not entry.name.startswith(".")
                    and entry.is_file()
                )
        except OSError as error:
            raise DeckError(f"cannot read folder: {error.strerror or error}", str(path)) from None
        return [path / name for name in names]
    if path.exists():
        return [path]
    raise DeckError("no such file or folder", str(path))


def _new_files(files: Iterable[Path], seen: set[object]) -> list[Path]:
    """Files not seen yet: one deck reached through two sources (a link, a folder named
    twice) is loaded once. A file is known by its device and inode, one stat, rather than
    by its resolved path, a stat of every folder above it."""
    new = []
    for file in files:
        try:
            info = os.stat(file)
            identity: object = (info.st_dev, info.st_ino)
        except OSError:  # gone or unreadable: its own error comes when it is read
            identity = os.path.abspath(file)
        if identity not in seen:
            seen.add(identity)
            new.append(file)
    return new


# The collection


@dataclass
class Collection:
    """Every valid deck drill knows, and the errors of the files that did not load."""

    decks: list[Deck] = field(default_factory=list)
    errors: list[DeckError] = field(default_factory=list)

    @property
    def card_count(self) -> int:
        return sum(len(deck.cards) for deck in self.decks)

    def deck(self, deck_id: str) -> Deck:
        for deck in self.decks:
            if deck.id == deck_id:
                return deck
        from drill.decks.check import did_you_mean

        hint = did_you_mean(deck_id, [deck.id for deck in self.decks])
        raise UnknownDeck(f"no deck {deck_id!r}{hint}; see drill decks")

    def card(self, key: str) -> Card:
        """The card with key `deck/card`."""
        deck_id, slash, card_id = key.partition("/")
        if not slash or not deck_id or not card_id:
            raise UnknownCard(f"{key!r} is not a card key; write it as deck/card")
        deck = next((deck for deck in self.decks if deck.id == deck_id), None)
        card = deck.card(card_id) if deck else None
        if card is None:
            keys = [card.key for deck in self.decks for card in deck.cards]
            from drill.decks.check import did_you_mean

            raise UnknownCard(f"no card {key!r}{did_you_mean(key, keys)}")
        return card

    def cards(self, deck_ids: Iterable[str] = (), tags: Iterable[str] = ()) -> list[Card]:
        """Cards of the named decks (all decks if none) having any of `tags` (any tag if none).

        A card's tags include its deck's tags. Raises UnknownDeck for a deck id not loaded.
        """
        wanted_decks = list(dict.fromkeys(deck_ids))
        decks = [self.deck(deck_id) for deck_id in wanted_decks] if wanted_decks else self.decks
        wanted_tags = set(tags)
        return [
            card
            for deck in decks
            for card in deck.cards
            if not wanted_tags or wanted_tags & {*deck.tags, *card.tags}
        ]

    def tags_of(self, card: Card) -> tuple[str, ...]:
        """The card's own tags after its deck's, without repeats."""
        return tuple(dict.fromkeys((*self.deck(card.deck_id).tags, *card.tags)))

    def renames(self) -> dict[str, str]:
        """Old card keys (from `was:`) to the current key, so history can follow a rename
        (drill.decks.scheduled.renames_of)."""
        from drill.decks.scheduled import renames_of

        return {old: new for deck in self.decks for old, new in renames_of(deck).items()}

    def warnings(self) -> list[str]:
        """One line per file that did not load, for commands that go on without it."""
        by_file: dict[str | None, list[DeckError]] = {}
        for error in self.errors:
            by_file.setdefault(error.path, []).append(error)
        lines = []
        for errors in by_file.values():
            more = len(errors) - 1
            suffix = f"; {more} more error{'s' if more > 1 else ''}, see drill lint" if more else ""
            lines.append(f"{errors[0]} (skipped{suffix})")
        return lines


class DeckIndex(Protocol):
    """What load_sources tells of each deck it finds (drill.decks.index.StudyIndex)."""

    def add_cached(self, header: Header, stamp: Stamp) -> None: ...

    def add_parsed(self, deck: Deck, stamp: Stamp | None) -> None: ...

    def add_shipped(self, shipped: ShippedDeck, stamp: Stamp) -> None: ...


def load_sources(
    sources: Iterable[Path],
    max_bytes: int = MAX_DECK_BYTES,
    cache: DeckCache | None = None,
    check_params: bool = False,
    taken: Iterable[Deck] = (),
    index: DeckIndex | None = None,
) -> Collection:
    """Every deck in `sources` (files or folders); bad files and paths become errors.

    Two files claiming one deck id: the first keeps it, the second is an error naming both.
    With a `cache`, a file unchanged since it was last parsed is not parsed again.
    With `check_params` (drill lint), compute cards' params are checked against their
    generator as well (this imports numpy); every file is then parsed, since the cache's
    entries were checked without it and would hide those errors.
    `taken`: decks already known (`drill lint FILE` passes the others drill reads), whose
    ids a deck in `sources` may not reuse unless it is the same file.
    `index` (with a `cache`): a deck whose cards are in the cache's study index is added to
    the index by its header only, not read, and left out of the collection; so is a
    built-in deck the wheel's table holds (drill.decks.shipped), by its header and rows,
    decoded only if its cards are asked for; the decks that had to be read are added to
    it whole (drill.decks.index).
    """
    collection = Collection()
    seen: set[object] = set()
    named: set[Path] = set()  # a source named twice (DRILL_DECKS and --decks) is read once
    owners: dict[str, Deck] = {deck.id: deck for deck in taken}
    for source in sources:
        if Path(source).absolute() in named:
            continue
        named.add(Path(source).absolute())
        try:
            files = _new_files(_expand(source), seen)
        except DeckError as error:
            collection.errors.append(error)
            continue
        for file in files:
            stamp, header = (None, None) if check_params else _stamp(file, max_bytes, cache, index)
            shipped = None
            if index is not None and stamp and header is None:
                shipped = shipped_entry(file, stamp)
                header = shipped.header if shipped else None
            if index is not None and cache is not None and stamp and header:
                stub = Deck(header.id, header.title, (), tags=header.tags, path=file)
                if header.id in owners and not _same_file(owners[header.id], stub):
                    duplicate = _duplicate_deck(stub, owners[header.id], header.id_position)
                    collection.errors.append(duplicate)
                    continue
                owners[header.id] = stub
                if shipped:
                    cache.put_shipped(stamp, shipped)  # the home's cache keeps it from now
                    index.add_shipped(shipped, stamp)
                else:
                    index.add_cached(header, stamp)
                continue
            if check_params:
                checked = _check(file, max_bytes, check_params=True)
            elif cache:
                checked = _check_cached(file, max_bytes, cache, stamp)
            else:
                checked = _check(file, max_bytes)
            collection.errors += checked.errors
            deck = checked.deck
            if deck is None:
                continue
            if deck.id in owners and not _same_file(owners[deck.id], deck):
                collection.errors.append(_duplicate_deck(deck, owners[deck.id], checked.id_node))
                continue
            owners[deck.id] = deck
            collection.decks.append(deck)
            if index is not None:
                index.add_parsed(deck, stamp)
    return collection


def _stamp(
    file: Path, max_bytes: int, cache: DeckCache | None, index: DeckIndex | None
) -> tuple[Stamp | None, Header | None]:
    """The file's stamp for the cache, and with an `index` the header of its cached deck
    when the cache holds this version (a settled file is not even read)."""
    if cache is None:
        return None, None
    if index is not None and (settled := cache.settled(file, max_bytes)):
        header, stamp = settled
        return stamp, header
    stamp = stamp_file(file, max_bytes)
    return stamp, (cache.header(stamp) if index is not None and stamp else None)


def _check_cached(file: Path, max_bytes: int, cache: DeckCache, stamp: Stamp | None) -> _Checked:
    """_check, through the parse cache, or for a built-in deck the parse shipped with the
    wheel (drill.decks.shipped). Only valid decks are cached: a file with errors is
    parsed each time, so its messages always come from the current checker."""
    hit = cache.get(file, stamp) if stamp else None
    shipped = shipped_entry(file, stamp) if stamp and hit is None else None
    if stamp and shipped and (hit := shipped.decoded()):
        # Kept in the home's cache too, so that its cards join the study index.
        cache.put_shipped(stamp, shipped)
    if hit is not None:
        return _Checked(hit.deck, [], hit.id_position)
    checked = _check(file, max_bytes)
    if stamp and checked.deck is not None:
        node = checked.id_node
        cache.put(stamp, checked.deck, Position(node.line, node.column) if node else None)
    return checked


def _same_file(first: Deck, second: Deck) -> bool:
    if first.path is None or second.path is None:
        return False
    try:
        return first.path.samefile(second.path)
    except OSError:
        return False


def _duplicate_deck(deck: Deck, first: Deck, id_node: Node | Position | None) -> DeckError:
    line, column = (id_node.line, id_node.column) if id_node else (None, None)
    message = f"deck id {deck.id!r} is already used by {first.path}"
    return DeckError(message, str(deck.path), line, column)


def load_collection(
    extra: Sequence[Path] = (),
    max_bytes: int = MAX_DECK_BYTES,
) -> Collection:
    """Every deck from every source (see default_sources); a bad file never blocks the others.

    Through the parse cache (drill.decks.cache): unchanged decks are read back, not parsed.
    `drill due` and `drill study` read even less (drill.decks.index)."""
    with DeckCache() as cache:
        return load_sources(default_sources(extra), max_bytes, cache)
