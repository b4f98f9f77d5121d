"""Finding cards by their words (`drill search`), and a card's question on one line.

A card matches when every word searched for begins a word of its question, answer,
choices, typed answers, tags, deck tags or key, ignoring case and accents: `softmax temp`
finds `mlp-activations/softmax-temperature`, `regularis` finds "Régularisation". Matching
word starts, not any substring, keeps `norm` from finding every "abnormal".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from drill.decks import cloze
from drill.decks.scheduled import deletion_number
from drill.model import Card, CardType

_WORD = re.compile(r"\w+")


def search_cards(
    cards: Iterable[Card], words: Sequence[str], deck_tags: dict[str, tuple[str, ...]] | None = None
) -> list[Card]:
    """The cards holding every one of `words` (at the start of a word of theirs)."""
    wanted = [_fold(word) for text in words for word in _WORD.findall(text)]
    if not wanted:
        return []
    found = []
    for card in cards:
        own = _words(card, (deck_tags or {}).get(card.deck_id, ()))
        if all(any(word.startswith(part) for word in own) for part in wanted):
            found.append(card)
    return found


def question_line(card: Card) -> str:
    """The card's question as one line of text (a cloze card's with its deletion blanked)."""
    if card.type is CardType.CLOZE:
        text = cloze.render(card.text, deletion_number(card), hidden=cloze.blank)
    else:
        text = card.q or card.generator or ""
    return " ".join(text.split())


def _words(card: Card, deck_tags: tuple[str, ...]) -> set[str]:
    parts = [
        card.key,
        card.q,
        card.a,
        cloze.render(card.text, None, hidden=lambda d: f"{d.answer} {d.hint or ''}"),
        card.type_answer or "",
        card.generator or "",
        *card.choices,
        *card.accept,
        *card.tags,
        *deck_tags,
    ]
    return {_fold(word) for part in parts for word in _WORD.findall(part)}


def _fold(text: str) -> str:
    """Lowercase without accents: `Régularisation` is found by `regularisation`."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))
