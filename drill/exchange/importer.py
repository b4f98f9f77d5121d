"""`drill import`: a JSON export or an Anki-style CSV/TSV file becomes YAML decks.

The new decks go to the user's decks folder, one `<deck id>.yaml` each. Nothing is
written until the whole input has been read and every deck has passed the same checks
`drill lint` runs; an existing deck file, or a deck id drill already knows, is refused.
Deck ids come from the file, so each is checked before any path is made from it.
"""

from __future__ import annotations

import dataclasses
import html
import os
import re
import tempfile
import unicodedata
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

from drill.decks.check import MAX_ID_LENGTH, is_valid_id
from drill.decks.limits import MAX_DECK_BYTES
from drill.errors import DeckError, DrillError
from drill.exchange.ankitext import AnkiText, Row, RowError, parse_anki_text
from drill.exchange.htmltext import html_to_markdown
from drill.home.fileio import atomic_write, read_limited
from drill.model import Card, CardType, Deck

TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
_CARD_ID_WORDS = 6
_CARD_ID_CHARS = 40
# A text file becomes one deck, whose YAML is larger than the text: a text file above the
# deck limit could never be imported. A JSON export holds any number of decks; this many
# deck limits bound it, so that a huge file is refused before it is read.
_JSON_LIMIT_IN_DECKS = 8
_SHOWN_ID_CHARS = 40


class ImportFailed(DrillError):
    """The file cannot be imported; nothing was written."""


# Reading


@dataclasses.dataclass(frozen=True)
class Read:
    """What a file to import holds: its decks, and the header row of a text file, if any."""

    decks: list[Deck]
    header: tuple[str, ...] | None = None


def read_import(
    path: Path,
    deck_id: str | None = None,
    title: str | None = None,
    max_bytes: int = MAX_DECK_BYTES,
    header: bool | None = None,
) -> list[Deck]:
    """The decks in a file, by suffix: .json from `drill export`, else Anki-style text.

    `max_bytes` is the deck size limit; the file's size is checked before it is read.
    `header`: whether a text file's first row names the columns (None: detect it).
    """
    return read_file(path, deck_id, title, max_bytes, header).decks


def read_file(
    path: Path,
    deck_id: str | None = None,
    title: str | None = None,
    max_bytes: int = MAX_DECK_BYTES,
    header: bool | None = None,
) -> Read:
    """read_import, telling also which header row of a text file was not taken as a note."""
    try:
        if path.suffix.lower() == ".json":
            decks = _read_json(path, max_bytes * _JSON_LIMIT_IN_DECKS)
            return Read(_rename(decks, deck_id, title))
        if path.suffix.lower() in TEXT_SUFFIXES:
            data = read_limited(path, max_bytes, "deck files")
            text = parse_anki_text(data.decode("utf-8-sig"), path.suffix, header)
            return Read([_deck_from_text(text, path, deck_id, title)], text.header)
    except RowError as error:
        raise ImportFailed(f"{path}:{error.line}: {_row(error)}{error.message}") from None
    except UnicodeDecodeError as error:
        raise ImportFailed(f"{path}: not UTF-8 text (byte {error.start})") from None
    except OSError as error:
        raise ImportFailed(f"{path}: {error.strerror or error}") from None
    shown = ", ".join((".json", *TEXT_SUFFIXES))
    raise ImportFailed(f"{path}: cannot import {path.suffix or 'this file'} (use {shown})")


def _row(error: RowError) -> str:
    return f"row {error.row}: " if error.row is not None else ""


def _read_json(path: Path, max_bytes: int) -> list[Deck]:
    from drill.exchange.jsonfmt import parse_json

    text = read_limited(path, max_bytes, "JSON imports").decode("utf-8")
    try:
        return parse_json(text)
    except ValueError as error:
        raise ImportFailed(f"{path}: {error}") from None


def _rename(decks: list[Deck], deck_id: str | None, title: str | None) -> list[Deck]:
    """Apply --id and --title, which only make sense for a file holding one deck."""
    if deck_id is None and title is None:
        return decks
    if len(decks) != 1:
        raise ImportFailed(f"--id and --title need a file with one deck; this one has {len(decks)}")
    deck = decks[0]
    new_id = deck_id or deck.id
    cards = tuple(Card.from_dict(new_id, card.to_dict()) for card in deck.cards)
    return [Deck(new_id, title or deck.title, cards, deck.description, deck.tags)]


def _deck_from_text(text: AnkiText, path: Path, deck_id: str | None, title: str | None) -> Deck:
    deck_id = deck_id or slug(path.stem, MAX_ID_LENGTH) or "imported"
    title = title or _title_from(text.deck) or _title_from_stem(path.stem)
    if not text.rows:
        raise ImportFailed(f"{path}: no notes found")
    notes = [_note_text(row, text.html) for row in text.rows]
    ids = _unique_ids(q for q, _, _ in notes)
    cards = tuple(
        # A front with {{c1::…}} deletions is a cloze note (Anki's, or drill's export).
        Card(deck_id, card_id, type=CardType.CLOZE, text=q, a=a, tags=row.tags, ref=ref)
        if _is_cloze(q)
        else Card(deck_id, card_id, q=q, a=a, tags=row.tags, ref=ref)
        for card_id, (q, a, ref), row in zip(ids, notes, text.rows, strict=True)
    )
    return Deck(deck_id, title, cards, tags=text.tags)


def _is_cloze(text: str) -> bool:
    from drill.decks import cloze

    try:
        return bool(cloze.numbers(text))
    except ValueError:  # a malformed deletion: a basic card, whose text shows it as typed
        return False


# `drill export` ends the back of a CSV note with the card's reference in this paragraph.
_REFERENCE = re.compile(r'\s*<p class="reference">([^<]*)</p>\s*$')


def _note_text(row: Row, is_html: bool) -> tuple[str, str, str | None]:
    """Front, back (as Markdown) and reference of a row; a side without text is refused."""
    back, ref = row.back, None
    if is_html and (match := _REFERENCE.search(back)):
        back, ref = back[: match.start()], html.unescape(match.group(1)).strip() or None
    convert = html_to_markdown if is_html else str.strip
    front, back = convert(row.front), convert(back)
    for name, side in (("front", front), ("back", back)):
        if not side and not (name == "back" and _is_cloze(front)):  # a cloze's back is extra
            raise RowError(f"the {name} has no text", row.line, row.number)
    return front, back, ref


def _title_from(anki_deck: str | None) -> str | None:
    # Anki nests decks with `::`; the innermost name is the deck's own.
    if not anki_deck:
        return None
    return anki_deck.split("::")[-1].strip() or None


def _title_from_stem(stem: str) -> str:
    title = " ".join(re.sub(r"[-_]+", " ", stem).split())
    return title[:1].upper() + title[1:] if title else "Imported"


def slug(text: str, max_chars: int = _CARD_ID_CHARS, max_words: int | None = None) -> str:
    """Lowercase ASCII words joined by `-`: a valid deck or card id, or '' if none is left."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())[:max_words]
    out = ""
    for word in words:
        candidate = f"{out}-{word}" if out else word
        if len(candidate) > max_chars:
            break
        out = candidate
    return out or (words[0][:max_chars] if words else "")


def _unique_ids(questions: Iterable[str]) -> list[str]:
    """Card ids from the questions' first words; repeats get -2, -3, …"""
    ids: list[str] = []
    taken: set[str] = set()
    for number, question in enumerate(questions, 1):
        base = slug(question, max_words=_CARD_ID_WORDS) or f"card-{number}"
        card_id, suffix = base, 2
        while card_id in taken:
            card_id, suffix = f"{base}-{suffix}", suffix + 1
        taken.add(card_id)
        ids.append(card_id)
    return ids


# Writing


def deck_yaml(deck: Deck, source: str | None = None) -> str:
    """The deck as a deck file; multi-line text in block style so it reads as written."""
    body = yaml.dump(
        deck.to_dict(),
        Dumper=_DeckDumper,
        sort_keys=False,
        allow_unicode=True,
        width=10_000,  # one line per value: no folding in the middle of a sentence
    )
    header = f"# Imported from {source} by drill import.\n" if source else ""
    return header + body


class _DeckDumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Indent list items under their key, as the built-in decks are written.
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> Any:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_list(dumper: yaml.SafeDumper, value: list[Any]) -> Any:
    # Tags and other short lists of plain values read best on one line.
    flow = all(isinstance(item, str | int | float | bool) for item in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)


_DeckDumper.add_representer(str, _represent_str)
_DeckDumper.add_representer(list, _represent_list)


def import_decks(
    decks: Sequence[Deck],
    folder: Path,
    known_ids: Collection[str],
    source: Path,
    max_bytes: int = MAX_DECK_BYTES,
) -> list[Deck]:
    """Check every deck, then write each to `folder/<id>.yaml`; all or nothing.

    Returns the decks as written, each with its new path.
    """
    for deck in decks:
        _check_id(deck.id, source)  # before any path is made from it
    _refuse_clashes(decks, folder, known_ids)
    texts = [deck_yaml(deck, source.name) for deck in decks]
    checked = [
        _checked(deck, text, source, max_bytes) for deck, text in zip(decks, texts, strict=True)
    ]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ImportFailed(f"cannot create folder {folder}: {error.strerror or error}") from None
    written: list[Deck] = []
    try:
        for deck, text in zip(checked, texts, strict=True):
            path = _deck_path(folder, deck.id)
            atomic_write(path, text)
            written.append(dataclasses.replace(deck, path=path))
    except DrillError:
        for deck in written:  # files this call created, so nothing else is lost
            if deck.path is not None:
                deck.path.unlink(missing_ok=True)
        raise
    return written


def _check_id(deck_id: object, source: Path) -> None:
    """Refuse an id that could not name a deck file: it would lead out of the decks folder,
    or fail to be a file name at all (a '/', 300 characters)."""
    if not isinstance(deck_id, str):
        raise ImportFailed(f"{source}: a deck id must be text, not {type(deck_id).__name__}")
    if not is_valid_id(deck_id):
        shown = _shorten(deck_id)
        raise ImportFailed(
            f"{source}: deck {shown!r}: invalid deck id {shown!r}: use lowercase letters, "
            f"digits, '-' and '_' (at most {MAX_ID_LENGTH}, starting with a letter or digit)"
        )


def _shorten(text: str) -> str:
    return text if len(text) <= _SHOWN_ID_CHARS else text[: _SHOWN_ID_CHARS - 1] + "…"


def _deck_path(folder: Path, deck_id: str) -> Path:
    """`folder/<id>.yaml` for a valid id, checked to be inside `folder` all the same."""
    path = folder / f"{deck_id}.yaml"
    if path.resolve().parent != folder.resolve():
        raise ImportFailed(f"{path} is outside {folder} (a symbolic link?); choose another --id")
    return path


def existing(decks: Sequence[Deck], folder: Path, known_ids: Collection[str]) -> list[Deck]:
    """The decks drill has already: an id it knows, or a deck file of that name in `folder`
    (`drill import --skip-existing` leaves them out)."""
    return [
        deck
        for deck in decks
        if deck.id in known_ids
        or any(os.path.lexists(folder / f"{deck.id}{suffix}") for suffix in (".yaml", ".yml"))
    ]


def _refuse_clashes(decks: Sequence[Deck], folder: Path, known_ids: Collection[str]) -> None:
    seen: set[str] = set()
    # A file of many decks (a JSON export of every deck) may hold the ones drill has.
    way_out = "choose another --id" if len(decks) == 1 else "--skip-existing imports the others"
    for deck in decks:
        if deck.id in known_ids or deck.id in seen:
            raise ImportFailed(f"a deck with id {deck.id!r} already exists ({way_out})")
        seen.add(deck.id)
        for suffix in (".yaml", ".yml"):
            path = folder / f"{deck.id}{suffix}"
            if os.path.lexists(path):  # a dangling symbolic link too: it leads elsewhere
                raise ImportFailed(f"{path} already exists (choose another --id)")


def _checked(deck: Deck, text: str, source: Path, max_bytes: int) -> Deck:
    """The deck as `drill lint` reads it back from `text`; its first problem is an error."""
    from drill.decks.loader import load_deck

    try:
        with tempfile.TemporaryDirectory(prefix="drill-import-") as folder:
            path = Path(folder) / f"{deck.id}.yaml"  # the id was checked: a plain file name
            path.write_text(text, encoding="utf-8")
            return load_deck(path, max_bytes)
    except DeckError as error:
        card = f"card {error.card!r}: " if error.card else ""
        raise ImportFailed(f"{source}: deck {deck.id!r}: {card}{error.message}") from None
    except OSError as error:
        raise ImportFailed(f"cannot check deck {deck.id!r}: {error.strerror or error}") from None
