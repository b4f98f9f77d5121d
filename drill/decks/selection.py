"""Choosing cards by deck and tag, as the commands' DECK arguments and --tag options ask."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from drill.decks.loader import Collection
from drill.errors import UnknownDeck, UnknownTag
from drill.model import Card


def resolve_deck_id(collection: Collection, name: str) -> str:
    """A deck id from what the user typed: the exact id, else a unique prefix of one."""
    ids = [deck.id for deck in collection.decks]
    if name in ids:
        return name
    matches = [deck_id for deck_id in ids if deck_id.startswith(name)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise UnknownDeck(f"{name!r} could be any of {len(matches)} decks: {', '.join(matches)}")
    return collection.deck(name).id  # raises UnknownDeck with a did-you-mean


def select_cards(
    collection: Collection, decks: Sequence[str] = (), tags: Sequence[str] = ()
) -> list[Card]:
    """Cards of the named decks (all if none) having any of `tags` (no filter if none).

    A tag no card has is a mistake, not an empty selection: UnknownTag names the closest.
    """
    deck_ids = [resolve_deck_id(collection, name) for name in decks]
    for tag in dict.fromkeys(tags):
        check_tag(collection, tag)
    cards = collection.cards(deck_ids, tags)
    if tags and not cards:
        raise no_card_has(tags, deck_ids)
    return cards


def no_card_has(tags: Sequence[str], deck_ids: Sequence[str]) -> UnknownTag:
    shown = " or ".join(repr(tag) for tag in dict.fromkeys(tags))
    return UnknownTag(f"no card in {', '.join(dict.fromkeys(deck_ids))} has the tag {shown}")


def check_tag(collection: Collection, tag: str) -> None:
    """Raise UnknownTag when no card of any deck has `tag` (a deck's tags count)."""
    known = {t for deck in collection.decks for c in deck.cards for t in (*deck.tags, *c.tags)}
    if tag not in known:
        raise unknown_tag(tag, known)


def unknown_tag(tag: str, known: Iterable[str]) -> UnknownTag:
    from drill.decks.check import did_you_mean

    return UnknownTag(f"the tag {tag!r} matches no card{did_you_mean(tag, sorted(known))}")


def select_study_cards(
    collection: Collection, decks: Sequence[str] = (), tags: Sequence[str] = ()
) -> list[Card]:
    """The scheduled cards of select_cards: a cloze card's deletions, a card's reverse."""
    from drill.decks.scheduled import scheduled_cards

    return scheduled_cards(select_cards(collection, decks, tags))


def resolve_keys(collection: Collection, names: Sequence[str]) -> list[str]:
    """Scheduled card keys from whole decks (id or unique prefix), `deck/card` (each card
    it schedules) or `deck/card#c1` (that one); see drill.decks.lookup."""
    from drill.decks.lookup import find_cards

    keys: list[str] = []
    for name in names:
        keys.extend(card.key for card in find_cards(collection, name))
    return list(dict.fromkeys(keys))
