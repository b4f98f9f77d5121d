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


def render_json(decks: Sequence[Deck]) -> str:
    document = {"format": FORMAT, "version": VERSION, "decks": [d.to_dict() for d in decks]}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def parse_json(text: str) -> list[Deck]:
    """The decks of a document written by `render_json`. Raises ValueError with the reason."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"line {error.lineno}: not valid JSON ({error.msg})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f'not a drill export (expected "format": "{FORMAT}")')
    if document.get("version") != VERSION:
        raise ValueError(f"unsupported version {document.get('version')!r} (expected {VERSION})")
    decks = document.get("decks")
    if not isinstance(decks, list):
        raise ValueError('"decks" must be a list')
    return [_deck(data, number) for number, data in enumerate(decks, start=1)]


def _deck(data: Any, number: int) -> Deck:
    where = f"deck {number}"
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected an object")
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
