"""Decks as JSON: lossless, with the same fields as the YAML deck files.

    {"format": "drill-decks", "version": 1, "decks": [{"id": …, "title": …, "cards": […]}]}

The output depends only on the decks (keys in a fixed order, no timestamps), so exporting
the same decks twice gives the same bytes. Compute cards are kept as definitions; their
exercises can always be made again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from drill.model import Deck

FORMAT = "drill-decks"
VERSION = 1
# Longer numerals are refused, as in deck files: no field needs one, and int() on thousands
# of digits is slow (Python refuses it past 4300 digits, in words meant for programmers).
_MAX_NUMBER_CHARS = 100


def render_json(decks: Sequence[Deck]) -> str:
    document = {"format": FORMAT, "version": VERSION, "decks": [d.to_dict() for d in decks]}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def parse_json(text: str) -> list[Deck]:
    """The decks of a document written by `render_json`. Raises ValueError with the reason."""
    # Deck files nest at most MAX_DEPTH levels; the document and its list of decks add two.
    from drill.decks.reader import MAX_DEPTH

    max_depth = MAX_DEPTH + 2
    too_deep = f"lists and objects nest too deeply (at most {max_depth} levels)"
    try:
        document = json.loads(text, parse_int=_number(int), parse_float=_number(float))
    except json.JSONDecodeError as error:
        raise ValueError(f"line {error.lineno}: not valid JSON ({error.msg})") from None
    except RecursionError:
        raise ValueError(too_deep) from None
    if _nested_deeper(document, max_depth):
        raise ValueError(too_deep)  # before YAML, whose writer would recurse that deep
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f'not a drill export (expected "format": "{FORMAT}")')
    if document.get("version") != VERSION:
        raise ValueError(f"unsupported version {document.get('version')!r} (expected {VERSION})")
    decks = document.get("decks")
    if not isinstance(decks, list):
        raise ValueError('"decks" must be a list')
    return [_deck(data, number) for number, data in enumerate(decks, start=1)]


def _number(kind: type[int] | type[float]) -> Any:
    def parse(numeral: str) -> int | float:
        if len(numeral) > _MAX_NUMBER_CHARS:
            raise ValueError(
                f"a number of {len(numeral)} characters is too long (at most {_MAX_NUMBER_CHARS})"
            )
        return kind(numeral)

    return parse


def _nested_deeper(value: Any, limit: int) -> bool:
    """Whether lists and objects in `value` nest more than `limit` levels; no recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in item)
    return False


def _deck(data: Any, number: int) -> Deck:
    where = f"deck {number}"
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected an object")
    if "id" in data and not isinstance(data["id"], str):
        shown = repr(data["id"])
        shown = shown if len(shown) <= 40 else shown[:39] + "…"
        raise ValueError(f'{where}: "id" must be text, not {shown}')
    if isinstance(data.get("id"), str):
        where = f"deck {data['id']!r}"
    cards = data.get("cards")
    if not isinstance(cards, list) or not all(isinstance(c, dict) for c in cards):
        raise ValueError(f'{where}: "cards" must be a list of objects')
    try:
        return Deck.from_dict(data)
    except KeyError as error:
        raise ValueError(f"{where}: missing {error.args[0]!r}") from None
    except (TypeError, ValueError) as error:
        raise ValueError(f"{where}: {error}") from None
