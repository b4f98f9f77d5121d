"""Sibling cards are not shown on the same day (Anki's "bury siblings").

A written card can schedule several cards (a cloze card one per deletion, a basic card
with `reverse: true` its reverse too); they share the note key, the key before `#`. Seeing
one gives the others away, so on a study day a note shows at most one new or review card:
none once one of its cards was reviewed that day, and only the first of those waiting.
Learning cards are never buried: their steps are due to the minute.
"""

from __future__ import annotations

from collections.abc import Collection, Container, Iterable, Mapping, Sequence
from datetime import datetime

from drill.model import Card, CardState
from drill.review.store import CardRecord


def note_of(key: str) -> str:
    """`deck/card#c1` → `deck/card`: the written card a scheduled card belongs to."""
    return key.partition("#")[0]


def bury_siblings(
    cards: Sequence[Card],
    records: Mapping[str, CardRecord],
    reviewed_today: Collection[str],
    until: datetime,
    later: Container[str] = (),
) -> list[Card]:
    """`cards` without the siblings buried for the study day ending at `until`.

    A new card, or a review card due before `until`, is buried when another card of its
    note was reviewed today (`reviewed_today`: keys) or comes before it in `cards`.
    `later` holds keys known to be due after today (they wait anyway, and bury nothing).
    """
    reviewed_by_note: dict[str, set[str]] = {}
    for key in reviewed_today:
        reviewed_by_note.setdefault(note_of(key), set()).add(key)
    waiting: dict[str, str] = {}  # note -> the key of its one card shown today
    # Reviews first, as Anki does: a card due for review keeps its day, a new sibling waits.
    for wanted in (CardState.REVIEW, CardState.NEW):
        for card in cards:
            record = records.get(card.key)
            if card.key in later or _waits_today(record, until) is not wanted:
                continue
            note = card.note_key
            if note not in waiting and not reviewed_by_note.get(note, set()) - {card.key}:
                waiting[note] = card.key
    return [
        card
        for card in cards
        if card.key in later
        or _waits_today(records.get(card.key), until) is None
        or waiting.get(card.note_key) == card.key
    ]


def siblings_in(queue: Iterable[Card], card: Card) -> list[Card]:
    """The other cards of `card`'s note in `queue`, to bury once `card` is answered."""
    return [other for other in queue if other.note_key == card.note_key and other.key != card.key]


def _waits_today(record: CardRecord | None, until: datetime) -> CardState | None:
    """NEW for a new card, REVIEW for a review card due today (what a sibling can bury),
    None for any other card."""
    if record is None:
        return CardState.NEW
    if record.suspended:
        return None
    if record.state is CardState.NEW:
        return CardState.NEW
    due_today = record.state is CardState.REVIEW and record.due is not None and record.due < until
    return CardState.REVIEW if due_today else None
