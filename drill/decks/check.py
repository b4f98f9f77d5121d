"""Deck validation: a file's YAML tree becomes a Deck, and every problem an error with a place.

The checker walks the whole tree and keeps going after a problem, so one run of
`drill lint` lists everything wrong in a file. Each error names line, column and card.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from drill.decks import check_code, check_types
from drill.decks.check_types import KEYS as TYPE_KEYS
from drill.decks.reader import STR, Kind, Node, to_python
from drill.errors import DeckError
from drill.exercises.registry import GENERATORS
from drill.model import Card, CardType, Deck

DECK_KEYS = ("id", "title", "description", "tags", "cards")
CARD_KEYS = (
    *("id", "q", "a", "type", "tags", "ref", "generator", "params", "was", *TYPE_KEYS),
    "exercise",  # code cards (drill.decks.check_code)
)
MAX_ID_LENGTH = 64
# Names people reach for from other flashcard tools, suggested when difflib finds nothing close.
_SYNONYMS = {
    "answer": "a",
    "back": "a",
    "front": "q",
    "question": "q",
    "kind": "type",
    "parameters": "params",
    "reference": "ref",
    "source": "ref",
}
# Ids appear in card keys (`deck/card`), on the command line and in Anki: keep them plain.
_ID = re.compile(r"[a-z0-9][a-z0-9_-]*")
# Control characters (Unicode category Cc: C0, DEL, C1) but tab and newline. YAML escapes
# such as "\e[2J" put them in a value; printed, they would drive the user's terminal.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class DeckChecker:
    """Walks one file's YAML tree, building the deck and recording every problem on the way."""

    def __init__(self, path: Path, check_params: bool = False) -> None:
        """With `check_params` (drill lint), compute cards' params are checked against their
        generator too: that imports the generator modules, and numpy, which loading avoids."""
        self.path = path
        self.check_params = check_params
        self.errors: list[DeckError] = []
        self.id_node: Node | None = None
        self.card_lines: dict[str, int] = {}  # card id -> line, for duplicates and renames
        self.old_ids: list[tuple[str, Node, str]] = []  # (old id, where, card) from `was:`

    def error(self, node: Node | None, message: str, card: str | None = None) -> None:
        line, column = (node.line, node.column) if node else (None, None)
        self.errors.append(DeckError(message, str(self.path), line, column, card))

    # The deck

    def deck(self, root: Node | None) -> Deck | None:
        if root is None:
            self.error(None, "file is empty; a deck needs id, title and cards")
            return None
        if root.kind is not Kind.MAPPING:
            message = f"the top level must be a mapping with id, title and cards, not a {root.kind}"
            self.error(root, message)
            return None
        fields = self.fields(root, DECK_KEYS)
        self.id_node = self.require(fields, "id", root)
        deck_id = self.ident(self.id_node, "id", "deck id")
        title = self.title(self.require(fields, "title", root))
        description = self.text(fields.get("description"), "description", optional=True)
        tags = self.tags(fields.get("tags"))
        cards = self.cards(self.require(fields, "cards", root), deck_id or "")
        if self.errors or deck_id is None or title is None:
            return None
        return Deck(
            id=deck_id,
            title=title,
            cards=tuple(cards),
            description=description or "",
            tags=tags,
            path=self.path,
        )

    def title(self, node: Node | None) -> str | None:
        title = self.text(node, "title")
        if title is not None and len(title.strip().splitlines()) > 1:
            # Titles head tables and Anki deck names: one line each.
            self.error(node, "'title' must be one line")
            return None
        return title.strip() if title else None

    def cards(self, node: Node | None, deck_id: str) -> list[Card]:
        if node is None:
            return []
        if node.kind is not Kind.SEQUENCE and not node.is_null:
            self.error(node, f"'cards' must be a list of cards, not a {node.kind}")
            return []
        if node.is_null or not node.items:
            self.error(node, "the deck has no cards")
            return []
        cards = [self.card(item, number, deck_id) for number, item in enumerate(node.items, 1)]
        self.check_old_ids()
        return [card for card in cards if card is not None]

    # One card

    def card(self, node: Node, number: int, deck_id: str) -> Card | None:
        if node.kind is not Kind.MAPPING:
            self.error(
                node, f"card #{number} must be a mapping with id, q and a, not a {node.kind}"
            )
            return None
        label = _card_label(node, number)
        errors_before = len(self.errors)
        fields = self.fields(node, CARD_KEYS, label)
        card_id = self.card_id(self.require(fields, "id", node, label), label)
        card_type = self.card_type(fields.get("type"), label)
        tags = self.tags(fields.get("tags"), label)
        ref = self.text(fields.get("ref"), "ref", label, optional=True)
        was = self.was(fields.get("was"), label)
        content: dict[str, Any] = {}
        check_types.misplaced(self, node, fields, card_type, label)
        check_code.misplaced(self, fields, card_type, label)
        if card_type is CardType.COMPUTE:
            content = self.compute_content(fields, node, label)
        elif card_type is CardType.BASIC:
            content = self.basic_content(fields, node, label)
        elif card_type is CardType.CLOZE:
            content = check_types.cloze_content(self, fields, node, label)
        elif card_type is CardType.CHOICE:
            content = check_types.choice_content(self, fields, node, label)
        elif card_type is CardType.CODE:
            content = check_code.code_content(self, fields, node, label)
        if len(self.errors) > errors_before or card_id is None or card_type is None:
            return None
        return Card(
            deck_id=deck_id,
            id=card_id,
            type=card_type,
            tags=tags,
            ref=ref or None,
            was=was,
            line=node.line,
            **content,
        )

    def card_id(self, node: Node | None, label: str) -> str | None:
        card_id = self.ident(node, "id", "card id", label)
        if card_id is None or node is None:
            return None
        if card_id in self.card_lines:
            first = self.card_lines[card_id]
            self.error(node, f"duplicate card id {card_id!r} (first at line {first})", label)
            return None
        self.card_lines[card_id] = node.line
        return card_id

    def card_type(self, node: Node | None, label: str) -> CardType | None:
        if node is None:
            return CardType.BASIC
        name = self.text(node, "type", label)
        if name is None:
            return None
        try:
            return CardType(name)
        except ValueError:
            names = [t.value for t in CardType]
            hint = did_you_mean(name, names)
            shown = ", ".join(names[:-1]) + f" or {names[-1]}"
            self.error(node, f"unknown card type {name!r}{hint}; use {shown}", label)
            return None

    def basic_content(self, fields: Mapping[str, Node], node: Node, label: str) -> dict[str, Any]:
        for key in ("generator", "params"):
            if key in fields:
                message = f"only compute cards take {key!r} (add 'type: compute')"
                self.error(fields[key], message, label)
        q = self.text(self.require(fields, "q", node, label), "q", label)
        a = self.text(self.require(fields, "a", node, label), "a", label)
        return {"q": q or "", "a": a or "", **check_types.basic_extras(self, fields, label)}

    def compute_content(self, fields: Mapping[str, Node], node: Node, label: str) -> dict[str, Any]:
        if "a" in fields:
            message = "a compute card's answer is generated on each review; remove 'a'"
            self.error(fields["a"], message, label)
        q = self.text(fields.get("q"), "q", label, optional=True)
        generator = self.generator(self.require(fields, "generator", node, label), label)
        params = self.params(fields.get("params"), label, generator)
        return {"q": q or "", "generator": generator, "params": params}

    def generator(self, node: Node | None, label: str) -> str | None:
        name = self.text(node, "generator", label)
        if node is None or name is None:
            return None
        if name not in GENERATORS:
            hint = did_you_mean(name, GENERATORS)
            self.error(node, f"unknown generator {name!r}{hint}; see drill gen --list", label)
            return None
        return name

    def params(self, node: Node | None, label: str, generator: str | None) -> dict[str, Any]:
        if node is None or node.is_null:
            return {}
        if node.kind is not Kind.MAPPING:
            self.error(
                node, f"'params' must be a mapping of names to values, not a {node.kind}", label
            )
            return {}
        params: dict[str, Any] = {}
        seen: set[str] = set()
        for key, value in node.pairs:
            if key.kind is not Kind.SCALAR or key.tag != STR:
                self.error(key, "param names must be plain names", label)
                continue
            name = key.value
            if name in seen:
                self.error(key, f"duplicate param {name!r}", label)
                continue
            seen.add(name)
            if not self.plain_text(key, "param name", label):
                continue
            try:
                python = to_python(value)
            except ValueError as error:
                self.error(value, f"param {name!r}: {error}", label)
                continue
            if any(not self.plain_text(item, f"param {name!r}", label) for item in _scalars(value)):
                continue
            params[name] = python
            if self.check_params and generator is not None:
                self.generator_param(generator, key, value, python, label)
        return params

    def generator_param(
        self, generator: str, key: Node, value: Node, python: Any, label: str
    ) -> None:
        from drill.exercises.registry import accepted_params, param_problem

        problem = param_problem(generator, key.value, python)
        if problem:
            # An unknown name is placed at the name, a wrong value at the value.
            self.error(value if key.value in accepted_params(generator) else key, problem, label)

    def was(self, node: Node | None, label: str) -> tuple[str, ...]:
        """Old ids of a renamed card; `was: old-id` or `was: [old-a, old-b]`."""
        if node is None:
            return ()
        items = node.items if node.kind is Kind.SEQUENCE else (node,)
        old_ids = []
        for item in items:
            old_id = self.ident(item, "was", "old id", label)
            if old_id is not None:
                self.old_ids.append((old_id, item, label))
                old_ids.append(old_id)
        return tuple(old_ids)

    def check_old_ids(self) -> None:
        """An old id must name no current card and belong to one card only."""
        claimed: dict[str, str] = {}
        for old_id, node, label in self.old_ids:
            if old_id in self.card_lines:
                line = self.card_lines[old_id]
                message = f"'was' names {old_id!r}, the id of a current card (line {line})"
                self.error(node, message, label)
            elif old_id in claimed and claimed[old_id] != label:
                message = f"old id {old_id!r} is also claimed by card {claimed[old_id]!r}"
                self.error(node, message, label)
            claimed.setdefault(old_id, label)

    # Fields and values

    def fields(
        self, node: Node, allowed: Sequence[str], card: str | None = None
    ) -> dict[str, Node]:
        """The mapping's values by key; unknown, duplicate and non-text keys are errors."""
        found: dict[str, Node] = {}
        first_line: dict[str, int] = {}
        for key, value in node.pairs:
            if key.kind is not Kind.SCALAR or key.is_null:
                self.error(key, "keys must be plain names", card)
                continue
            name = key.value
            if name in first_line:
                message = f"duplicate key {name!r} (first at line {first_line[name]})"
                self.error(key, message, card)
                continue
            first_line[name] = key.line
            if name not in allowed:
                self.error(key, f"unknown key {name!r}{did_you_mean(name, allowed)}", card)
                continue
            found[name] = value
        return found

    def require(
        self, fields: Mapping[str, Node], name: str, owner: Node, card: str | None = None
    ) -> Node | None:
        if name not in fields:
            self.error(owner, f"missing {name!r}", card)
            return None
        return fields[name]

    def text(
        self, node: Node | None, name: str, card: str | None = None, optional: bool = False
    ) -> str | None:
        """A text field. Any scalar counts, taken as written: `a: 0.25` means the text 0.25."""
        if node is None:
            return None
        if node.kind is not Kind.SCALAR:
            self.error(node, f"{name!r} must be text, not a {node.kind}", card)
            return None
        if not self.plain_text(node, repr(name), card):
            return None
        if node.is_null or not node.value.strip():
            if not optional:
                self.error(node, f"{name!r} is empty", card)
            return None
        return node.value

    def ident(self, node: Node | None, key: str, what: str, card: str | None = None) -> str | None:
        """An id written under `key`, checked against the id rules; `what` names it in errors."""
        value = self.text(node, key, card)
        if node is None or value is None:
            return None
        if not is_valid_id(value):
            message = (
                f"invalid {what} {value!r}: use lowercase letters, digits, '-' and '_' "
                f"(at most {MAX_ID_LENGTH}, starting with a letter or digit)"
            )
            self.error(node, message, card)
            return None
        return value

    def tags(self, node: Node | None, card: str | None = None) -> tuple[str, ...]:
        if node is None or node.is_null:
            return ()
        if node.kind is not Kind.SEQUENCE:
            self.error(node, "'tags' must be a list of strings, like [interview, relu]", card)
            return ()
        tags = []
        for item in node.items:
            if item.kind is Kind.SCALAR and not self.plain_text(item, "'tags'", card):
                continue
            if item.kind is not Kind.SCALAR or item.tag != STR or not item.value.strip():
                shown = repr(item.value or "null") if item.kind is Kind.SCALAR else f"a {item.kind}"
                self.error(item, f"tags must be strings, not {shown}", card)
            elif any(char.isspace() for char in item.value):
                # Anki splits tags on spaces, so a space would turn one tag into two there.
                hint = "-".join(item.value.split())
                self.error(item, f"tag {item.value!r} contains a space; write {hint!r}", card)
            else:
                tags.append(item.value)
        return tuple(tags)

    def plain_text(self, node: Node, field: str, card: str | None) -> bool:
        """False, with an error naming `field`, when the scalar holds a control character."""
        bad = _CONTROL.search(node.value)
        if bad:
            code = f"U+{ord(bad.group()):04X}"
            message = f"{field} contains control character {code}; only tab and newline are allowed"
            self.error(node, message, card)
        return bad is None


def _scalars(node: Node) -> Iterator[Node]:
    """Every scalar in a value, mapping keys included (depth is bounded by the reader)."""
    if node.kind is Kind.SCALAR:
        yield node
    for item in node.items:
        yield from _scalars(item)
    for key, value in node.pairs:
        yield from _scalars(key)
        yield from _scalars(value)


def _card_label(node: Node, number: int) -> str:
    """How errors name a card: its id as written, or its position when it has none."""
    for key, value in node.pairs:
        is_id = key.kind is Kind.SCALAR and key.value == "id"
        if is_id and value.kind is Kind.SCALAR and not value.is_null and value.value.strip():
            return value.value
    return f"#{number}"


def is_valid_id(value: str) -> bool:
    """Whether `value` may be a deck or card id; such an id is also a plain file name."""
    return _ID.fullmatch(value) is not None and len(value) <= MAX_ID_LENGTH


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    choices = list(choices)
    close = difflib.get_close_matches(name, choices, n=1)
    if not close and len(name) >= 3:
        # Abbreviations are too short for difflib's ratio: 'desc' for 'description'.
        close = [choice for choice in choices if choice.startswith(name)][:1]
    if not close and _SYNONYMS.get(name) in choices:
        close = [_SYNONYMS[name]]
    return f" (did you mean {close[0]!r}?)" if close else ""
