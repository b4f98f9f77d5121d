"""Finding cards by what the user typed, for `drill show`, `suspend`, `unsuspend` and `edit`.

A name is a deck (`backprop`, or a unique prefix of a deck id), a written card
(`DECK/CARD`, the deck again by id or unique prefix), or one scheduled card of it
(`DECK/CARD#c2`, `DECK/CARD#reverse`). A name that matches nothing is an error with the
closest cards, ranked by how alike their ids are, so a card id typed without its deck
(`two-passes`) finds the cards of that id in every deck.
"""

from __future__ import annotations

from collections.abc import Iterable
from difflib import SequenceMatcher
from heapq import nlargest

from drill.decks.loader import Collection
from drill.decks.scheduled import scheduled
from drill.errors import UnknownCard, UnknownDeck
from drill.model import Card, Deck


class AmbiguousDeck(UnknownDeck):
    """A deck prefix that starts more than one deck id."""


MAX_SUGGESTIONS = 3
_CUTOFF = 0.7  # above difflib's 0.6: short ids share letters by chance ('no-biases')
_CONTAINS = 0.85  # a card id holding what was typed ('softmax' in 'softmax-stable')


def resolve_deck(collection: Collection, name: str) -> Deck:
    """The deck with this id, else the one deck whose id starts with it."""
    for deck in collection.decks:
        if deck.id == name:
            return deck
    matches = [deck for deck in collection.decks if deck.id.startswith(name)] if name else []
    if len(matches) == 1:
        return matches[0]
    if matches:  # worded as drill.decks.selection words it for the DECK arguments
        shown = ", ".join(sorted(deck.id for deck in matches))
        raise AmbiguousDeck(f"{name!r} could be any of {len(matches)} decks: {shown}")
    return collection.deck(name)  # raises UnknownDeck with a did-you-mean


def written_card(collection: Collection, name: str) -> Card:
    """The card as written in its deck, from `DECK/CARD` (a `#variant` is ignored)."""
    deck_part, slash, card_part = name.partition("/")
    if not slash or not deck_part or not card_part:
        raise UnknownCard(f"{name!r} is not a card; write it as DECK/CARD{_hint(collection, name)}")
    card_id = card_part.partition("#")[0]
    deck = _deck_of(collection, name, deck_part)
    card = deck.card(card_id)
    if card is None:
        raise UnknownCard(f"no card {name!r}{_hint(collection, name)}")
    return card


def find_cards(collection: Collection, name: str, decks: bool = True) -> list[Card]:
    """The scheduled cards `name` stands for: every card of a deck (when `decks`), every
    card of a written card (a cloze card's deletions, a card and its reverse), or one."""
    if "/" not in name:
        if not decks:
            raise UnknownCard(
                f"{name!r} is not a card; write it as DECK/CARD{_hint(collection, name)}"
            )
        try:
            deck = resolve_deck(collection, name)
        except AmbiguousDeck:
            raise
        except UnknownDeck as error:
            hint = _hint(collection, name)
            if not hint:
                raise
            raise UnknownDeck(f"no deck or card {name!r}{hint}") from error
        return [item for card in deck.cards for item in scheduled(card)]
    card = written_card(collection, name)
    cards = list(scheduled(card))
    _, hash_sign, variant = name.partition("#")
    if not hash_sign:
        return cards
    chosen = [item for item in cards if item.variant == variant]
    if not chosen:
        known = ", ".join(item.key for item in cards)
        raise UnknownCard(f"no card {name!r}; {card.note_key} is studied as {known}")
    return chosen


def suggestions(collection: Collection, name: str) -> list[str]:
    """Card keys like `name`, the closest first (at most MAX_SUGGESTIONS)."""
    deck_part, slash, card_part = name.partition("/")
    if not slash:
        deck_part, card_part = "", name
    card_part = card_part.partition("#")[0]
    prefix_decks = {
        deck.id for deck in collection.decks if deck_part and deck.id.startswith(deck_part)
    }
    scored = (
        (_score(deck.id, card.id, deck_part, card_part, prefix_decks), card.key)
        for deck in collection.decks
        for card in deck.cards
    )
    best = nlargest(MAX_SUGGESTIONS, (item for item in scored if item[0] >= _CUTOFF))
    return [key for _, key in sorted(best, key=lambda item: (-item[0], item[1]))]


def _score(deck_id: str, card_id: str, deck_part: str, card_part: str, prefix: set[str]) -> float:
    card_score = SequenceMatcher(None, card_part, card_id).ratio()
    if len(card_part) >= 3 and card_part in card_id:
        card_score = max(card_score, _CONTAINS)
    if not deck_part:
        return card_score
    deck_score = 1.0 if deck_id in prefix else SequenceMatcher(None, deck_part, deck_id).ratio()
    return 0.75 * card_score + 0.25 * deck_score


def _hint(collection: Collection, name: str) -> str:
    return did_you_mean(suggestions(collection, name))


def did_you_mean(keys: Iterable[str]) -> str:
    shown = [repr(key) for key in keys]
    if not shown:
        return ""
    listed = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + f" or {shown[-1]}"
    return f" (did you mean {listed}?)"


def _deck_of(collection: Collection, name: str, deck_part: str) -> Deck:
    try:
        return resolve_deck(collection, deck_part)
    except AmbiguousDeck:
        raise
    except UnknownDeck as error:
        hint = _hint(collection, name)
        if not hint:
            raise
        raise UnknownCard(f"no card {name!r}{hint}") from error
