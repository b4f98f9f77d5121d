"""The cards a written card schedules: itself, or its siblings.

Most cards are studied as written, under their key `deck/card`. Two kinds make several
cards, each with its own schedule, and sharing the written card's `note_key`:

- a cloze card makes one card per deletion number: `deck/card#c1`, `deck/card#c2`, …
- a basic card with `reverse: true` makes itself (`deck/card`, so adding `reverse` keeps
  its history) and its reverse, `deck/card#reverse`, which asks the answer and expects
  the question.

The queue buries siblings: one card of a note a day (drill.review.siblings).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from drill.decks import cloze
from drill.model import Card, CardType, Deck

REVERSE = "reverse"


def scheduled(card: Card) -> tuple[Card, ...]:
    """The scheduled cards of a written card, in order."""
    if card.variant:
        return (card,)
    if card.type is CardType.CLOZE:
        return tuple(replace(card, variant=f"c{n}") for n in cloze.numbers(card.text))
    if card.reverse:
        return (card, reversed_card(card))
    return (card,)


def reversed_card(card: Card) -> Card:
    """The answer → question sibling: its question is the answer, and nothing is typed."""
    return replace(
        card, variant=REVERSE, q=card.a, a=card.q, type_answer=None, accept=(), reverse=False
    )


def scheduled_cards(cards: Iterable[Card]) -> list[Card]:
    """Every scheduled card of `cards`, in order."""
    out: list[Card] = []
    for card in cards:
        if card.type is CardType.CLOZE or card.reverse:
            out.extend(scheduled(card))
        else:
            out.append(card)  # the common case, kept cheap: 20,000 cards at every start
    return out


def deletion_number(card: Card) -> int | None:
    """The deletion a cloze card asks (`c2` → 2), or None for any other card."""
    if card.type is CardType.CLOZE and card.variant.startswith("c"):
        digits = card.variant[1:]
        return int(digits) if digits.isdigit() else None
    return None


def variant_suffixes(card: Card) -> list[str]:
    """The key suffixes of a card's scheduled cards: `["#c1", "#c2"]`, `["", "#reverse"]`."""
    return [f"#{item.variant}" if item.variant else "" for item in scheduled(card)]


def renames_of(deck: Deck) -> dict[str, str]:
    """Old card keys (from `was:`) to the current key, so history can follow a rename;
    a card scheduled as several (cloze, reverse) renames each: `old#c1` → `new#c1`."""
    return {
        f"{deck.id}/{old_id}{suffix}": f"{card.key}{suffix}"
        for card in deck.cards
        if card.was
        for suffix in variant_suffixes(card)
        for old_id in card.was
    }
