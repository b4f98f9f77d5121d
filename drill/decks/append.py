"""Adding a card to a deck file (`drill add`), leaving everything else in it as it was.

The card goes in as text, at the end of the deck's `cards:` list and indented like the
cards already there, so the file's comments, order and formatting stay as written. The
file as it would be is checked with the same checks as `drill lint` before anything is
written; a card with a problem is refused, each error placed in the card's own lines.
Built-in decks are never edited: drill replaces them on upgrade.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from drill.decks import cloze
from drill.decks.limits import MAX_DECK_BYTES
from drill.decks.reader import Kind, Node, compose, read_text
from drill.errors import DeckError, DrillError
from drill.home.paths import builtin_decks_dir, get_paths
from drill.model import Card, Deck

_ID_WORDS = 6
_ID_CHARS = 40


TEMPLATE = """\
# A new card for deck {deck}. Save and close the editor to add it; close it unchanged to
# add nothing. Without an `id:`, one is made from the question. Other kinds of card:
#   type: cloze   with  text: "The {{{{c1::chain rule}}}} multiplies local derivatives."
#   type: choice  with  choices: [A, B, C]  and  answer: B  (multiple: true for several)
#   type_answer: a short answer to type;  reverse: true to be asked answer -> question too
q:
a: |

tags: []
"""


class CannotAdd(DrillError):
    """The card cannot be added to this deck; nothing was written."""


class CardRejected(DrillError):
    """The new card has problems (`errors`, placed in its own lines); nothing was written."""

    def __init__(self, errors: list[DeckError]) -> None:
        self.errors = errors
        count = len(errors)
        super().__init__(f"the card has {count} problem{'s' * (count != 1)}; nothing was added")


def writable_file(deck: Deck, doing: str = "add cards to") -> Path:
    """The file of a deck the user may change; built-in decks ship with drill and are
    replaced on upgrade, so a user's own deck is where cards are added or edited."""
    if deck.path is None:
        raise CannotAdd(f"deck {deck.id!r} has no file")
    if _inside(deck.path, builtin_decks_dir()):
        folder = get_paths().user_decks
        raise CannotAdd(
            f"{deck.id!r} is a built-in deck, which drill replaces on upgrade; {doing} a deck "
            f"of your own instead: a YAML file in {folder} (id, title and cards; see README "
            f"'Decks'), or a copy of {deck.path.name} there with a new id"
        )
    return deck.path


def new_card_id(question: str, taken: Collection[str]) -> str:
    """An id from the question's first words, unique among `taken` (-2, -3, … if needed)."""
    ascii_text = unicodedata.normalize("NFKD", question).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())[:_ID_WORDS]
    base = ""
    for word in words:
        if len(base) + len(word) + 1 > _ID_CHARS:
            break
        base = f"{base}-{word}" if base else word
    base = base or "card"
    card_id, suffix = base, 2
    while card_id in taken:
        card_id, suffix = f"{base}-{suffix}", suffix + 1
    return card_id


def card_yaml(fields: Mapping[str, Any]) -> str:
    """A card's fields as the YAML of one list item's mapping (no dash, no indentation):
    multi-line text as `|` blocks, short lists on one line."""
    return yaml.dump(
        dict(fields), Dumper=_CardDumper, sort_keys=False, allow_unicode=True, width=10_000
    )


def template(deck_id: str) -> str:
    return TEMPLATE.format(deck=deck_id)


def drafted_card(text: str, deck_id: str) -> tuple[str, int] | None:
    """The card written in an edited template without the comment lines heading it, and
    how many lines were left out; None when the template came back unchanged or empty."""
    if text.strip() == template(deck_id).strip() or not text.strip():
        return None
    lines = text.split("\n")
    skipped = 0
    while lines and (lines[0].lstrip().startswith("#") or not lines[0].strip()):
        lines.pop(0)
        skipped += 1
    card = "\n".join(lines).rstrip("\n")
    return (card + "\n", skipped) if card.strip() else None


def with_id(snippet: str, taken: Collection[str]) -> str:
    """The card's YAML with an `id:` line first, made from its question, when it has none."""
    try:
        root = compose(snippet, "card")
    except DeckError:
        return snippet  # add_card says what is wrong with it, in its own lines
    if root is None or root.kind is not Kind.MAPPING:
        return snippet
    values = {key.value: value for key, value in root.pairs if key.kind is Kind.SCALAR}
    if "id" in values:
        return snippet
    question = next(
        (values[name].value for name in ("q", "text") if name in values and values[name].value),
        "",
    )
    if "q" not in values:  # a cloze card: its id from the text as read, answers in place
        question = cloze.render(question, None, hidden=lambda deletion: deletion.answer)
    return f"id: {new_card_id(question, taken)}\n{snippet}"


def add_card(
    path: Path,
    snippet: str,
    source: str = "new card",
    max_bytes: int = MAX_DECK_BYTES,
    source_line: int = 1,
) -> Card:
    """Append the card in `snippet` (YAML of one card mapping) to the deck file at `path`.

    Raises CardRejected when the card has problems, its errors named after `source`, with
    the snippet's first line counted as `source_line` there; CannotAdd when the file
    cannot take a card.
    """
    from drill.decks.check import DeckChecker
    from drill.home.fileio import atomic_write

    text = read_text(path, max_bytes)
    try:
        root = compose(text, path)
    except DeckError as error:
        raise CannotAdd(f"{error} (fix the deck first; see drill lint)") from None
    before = DeckChecker(path)
    if before.deck(root) is None:
        raise CannotAdd(f"{before.errors[0]} (fix the deck first; see drill lint)")
    new_text, first_line, indent = _appended(text, root, path, snippet)
    last_line = first_line + snippet.rstrip("\n").count("\n")

    def placed(error: DeckError) -> DeckError:
        return _placed(error, source, first_line, last_line, indent, source_line)

    checker = DeckChecker(path)
    try:
        deck = checker.deck(compose(new_text, path))
    except DeckError as error:  # the card's YAML itself: a syntax error, a tab, an alias
        if error.line is not None and error.line > last_line:  # found only past the card
            error = DeckError(error.message, error.path, last_line, None, error.card)
        raise CardRejected([placed(error)]) from None
    if checker.errors or deck is None:
        errors = sorted(checker.errors, key=lambda e: (e.line or 0, e.column or 0))
        raise CardRejected([placed(error) for error in errors])
    card = next(card for card in deck.cards if card.line == first_line)
    atomic_write(path, new_text, force=True)
    return replace(card, line=first_line)


def _appended(text: str, root: Node | None, path: Path, snippet: str) -> tuple[str, int, int]:
    """The file's text with the card added, the 1-based line where the card starts, and
    the indentation of its fields."""
    cards = _cards_node(root, path)
    lines = text.split("\n")
    dash = _dash_column(lines, cards.items[0], path)
    at = _insertion_line(root, cards, lines)
    item = _indented(snippet, dash)
    new_lines = [*lines[:at], *item, *lines[at:]]
    new_text = "\n".join(new_lines)
    return (new_text if new_text.endswith("\n") else new_text + "\n"), at + 1, dash + 2


def _cards_node(root: Node | None, path: Path) -> Node:
    if root is not None and root.kind is Kind.MAPPING:
        for key, value in root.pairs:
            is_cards = key.kind is Kind.SCALAR and key.value == "cards"
            if is_cards and value.kind is Kind.SEQUENCE and value.items:
                return value
    raise CannotAdd(f"{path}: no list of cards to add to (see drill lint)")


def _dash_column(lines: list[str], first_card: Node, path: Path) -> int:
    """The 0-based column of the `-` that starts each card."""
    before = lines[first_card.line - 1][: first_card.column - 1]
    stripped = before.rstrip()
    if not stripped.endswith("-") or stripped[:-1].strip():
        raise CannotAdd(
            f"{path}: its cards are not written as a block list (`- id: …`); add the card by hand"
        )
    return len(stripped) - 1


def _insertion_line(root: Node | None, cards: Node, lines: list[str]) -> int:
    """The 0-based index of the line the card goes before: after the last card, before
    the next top-level key and the top-level comments heading it."""
    pairs = root.pairs if root is not None else ()
    later = [key.line for key, _ in pairs if key.line > cards.line]
    at = min(later) - 1 if later else len(lines)
    # Blank lines and top-level comments at the end belong to what follows (or to the
    # file), not to the last card; a card's own comments are indented like it.
    while at > 0 and (not lines[at - 1].strip() or lines[at - 1].startswith("#")):
        at -= 1
    return at


def _indented(snippet: str, dash: int) -> list[str]:
    body = snippet.rstrip("\n").split("\n")
    pad = " " * (dash + 2)
    out = [" " * dash + "- " + body[0]]
    out += [pad + line if line.strip() else "" for line in body[1:]]
    return out


def _placed(
    error: DeckError, source: str, first: int, last: int, indent: int, source_line: int
) -> DeckError:
    """An error of the whole file, placed in the card's own lines when it is there."""
    if error.line is None or not first <= error.line <= last:
        return DeckError(error.message, source, None, None, error.card)
    column = None if error.column is None else max(1, error.column - indent)
    line = max(1, error.line - first + source_line)
    return DeckError(error.message, source, line, column, error.card)


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


class _CardDumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> Any:
    style = "|" if "\n" in value.strip() else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_list(dumper: yaml.SafeDumper, value: list[Any]) -> Any:
    flow = all(isinstance(item, str) and "\n" not in item for item in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)


_CardDumper.add_representer(str, _represent_str)
_CardDumper.add_representer(list, _represent_list)
