"""Choosing cards by deck and tag, as the commands' DECK arguments and --tag options ask."""

from __future__ import annotations

from collections.abc import Sequence

from drill.decks.loader import Collection
from drill.model import Card


def resolve_deck_id(collection: Collection, name: str) -> str:
    """A deck id from what the user typed: the exact id, else a unique prefix of one."""
    ids = [deck.id for deck in collection.decks]
    if name in ids:
        return name
    matches = [deck_id for deck_id in ids if deck_id.startswith(name)]
    if len(matches) == 1:
        return matches[0]
    return collection.deck(name).id  # raises UnknownDeck with a did-you-mean


def select_cards(
    collection: Collection, decks: Sequence[str] = (), tags: Sequence[str] = ()
) -> list[Card]:
    deck_ids = [resolve_deck_id(collection, name) for name in decks]
    return collection.cards(deck_ids, tags)


def resolve_keys(collection: Collection, names: Sequence[str]) -> list[str]:
    """Card keys from `deck/card` or whole decks named by id (or unique prefix)."""
    keys: list[str] = []
    for name in names:
        if "/" in name:
            keys.append(collection.card(name).key)
        else:
            keys.extend(
                card.key for card in collection.deck(resolve_deck_id(collection, name)).cards
            )
    return keys
