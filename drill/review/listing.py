"""Cards with their schedules, for `drill list` and `drill search`: what state each is in,
when it is due, and the filters by state and due date."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from drill.model import Card, CardState

if TYPE_CHECKING:  # the store is imported when rows are made: `drill --help` needs StateFilter
    from drill.review.store import CardRecord


class StateFilter(StrEnum):
    """What `--state` selects. Suspended cards count only as suspended; a leech is a card
    that lapsed too often, whatever its state."""

    NEW = "new"
    LEARNING = "learning"  # relearning too
    REVIEW = "review"
    SUSPENDED = "suspended"
    LEECH = "leech"


@dataclass(frozen=True)
class CardRow:
    card: Card
    record: CardRecord

    @property
    def state(self) -> str:
        """One word: suspended, else the learning state (new, learning, relearning, review)."""
        if self.record.suspended:
            return "suspended"
        return self.record.state.name.lower()

    def matches(self, wanted: StateFilter) -> bool:
        record = self.record
        if wanted is StateFilter.SUSPENDED:
            return record.suspended
        if wanted is StateFilter.LEECH:
            return record.leech
        if record.suspended:
            return False
        if wanted is StateFilter.LEARNING:
            return record.state in (CardState.LEARNING, CardState.RELEARNING)
        return record.state is _STATES[wanted]

    def to_dict(self, question: str) -> dict[str, Any]:
        record = self.record
        return {
            "key": self.card.key,
            "deck": self.card.deck_id,
            "card": self.card.id,
            "type": self.card.type.value,
            "state": record.state.name.lower(),
            "suspended": record.suspended,
            "leech": record.leech,
            "due": record.due.isoformat() if record.due else None,
            "stability": record.stability,
            "difficulty": record.difficulty,
            "reps": record.reps,
            "lapses": record.lapses,
            "question": question,
            "tags": list(self.card.tags),
        }


_STATES = {StateFilter.NEW: CardState.NEW, StateFilter.REVIEW: CardState.REVIEW}


def card_rows(
    cards: Sequence[Card],
    records: Mapping[str, CardRecord],
    states: Collection[StateFilter] = (),
    due_before: datetime | None = None,
) -> list[CardRow]:
    """A row per card, in the order given, keeping those in any of `states` (all when
    none) and, with `due_before`, only cards scheduled before that moment (new and
    suspended cards have no due date that counts)."""
    from drill.review.store import CardRecord

    rows = []
    for card in cards:
        row = CardRow(card, records.get(card.key) or CardRecord(key=card.key))
        if states and not any(row.matches(state) for state in states):
            continue
        if due_before is not None and not _due_before(row.record, due_before):
            continue
        rows.append(row)
    return rows


def _due_before(record: CardRecord, moment: datetime) -> bool:
    return (
        not record.suspended
        and record.state is not CardState.NEW
        and record.due is not None
        and record.due < moment
    )
