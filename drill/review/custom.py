"""Custom study, as Anki's Custom Study offers it: review ahead, cram, and failed cards.

- ahead   review cards due within the next N days, soonest first (recorded as reviews:
          FSRS takes the shorter time since the last review into account)
- cram    the chosen cards whatever their schedule, weakest predicted recall first;
          practice only unless recorded (`--record`)
- failed  cards failed (graded *again*) in the last N days, weakest first (recorded)

Each gives a list of cards; CustomSession studies exactly that list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from drill.home.config import Config
from drill.model import Card, CardState, Rating
from drill.review.planning import active, decay_of, predicted_recall
from drill.review.queue import day_end, day_start
from drill.review.session import Answered, Session
from drill.review.store import CardRecord, Store, to_ms


def ahead_cards(
    cards: Sequence[Card],
    records: Mapping[str, CardRecord],
    now: datetime,
    config: Config,
    days: int,
) -> list[Card]:
    """Review cards due before the end of the study day `days` days after today, soonest
    first (cards due today included)."""
    until = day_end(now, config.rollover_hour) + timedelta(days=days)
    due: list[tuple[datetime, int, Card]] = []
    for position, card in enumerate(active(cards, records)):
        record = records.get(card.key)
        if record is None or record.state is not CardState.REVIEW or record.due is None:
            continue
        if record.due < until:
            due.append((record.due, position, card))
    return [card for _, _, card in sorted(due, key=lambda item: item[:2])]


def weakest_first(
    cards: Sequence[Card], records: Mapping[str, CardRecord], now: datetime, config: Config
) -> list[Card]:
    """The cards not suspended, lowest predicted recall now first (never seen: 0), ties in
    the order given."""
    decay = decay_of(config)
    chosen = active(cards, records)
    return sorted(chosen, key=lambda card: predicted_recall(records.get(card.key), now, decay))


def cram_cards(
    cards: Sequence[Card], records: Mapping[str, CardRecord], now: datetime, config: Config
) -> list[Card]:
    return weakest_first(cards, records, now, config)


def failed_cards(
    cards: Sequence[Card],
    records: Mapping[str, CardRecord],
    store: Store,
    now: datetime,
    config: Config,
    days: int,
) -> list[Card]:
    """Cards graded *again* since the start of the study day `days - 1` days ago (so 1 is
    today), weakest first. Undone reviews do not count; a renamed card's old key does."""
    since = day_start(now, config.rollover_hour) - timedelta(days=days - 1)
    rows = store.db.execute(
        "SELECT DISTINCT r.key FROM review_log r LEFT JOIN undone u ON u.review_id = r.id"
        " WHERE r.rating = ? AND r.reviewed_at >= ? AND u.review_id IS NULL",
        (int(Rating.AGAIN), to_ms(since)),
    )
    follow = current_key(store.renamed())
    failed = {follow(row[0]) for row in rows}
    chosen = [card for card in cards if card.key in failed]
    return weakest_first(chosen, records, now, config)


def current_key(renamed: Mapping[str, str]) -> Callable[[str], str]:
    """A function from a key as logged to the card's key now, through any renames."""

    def follow(key: str) -> str:
        seen = {key}
        while key in renamed and renamed[key] not in seen:
            key = renamed[key]
            seen.add(key)
        return key

    return follow


class CustomSession(Session):
    """A session over exactly the cards given, in that order, due or not.

    With `record` (the default) each answer is a review, as in any session. Without it the
    session is practice: answers change nothing in the database, and a card graded *again*
    comes back at the end of the session.
    """

    shows_learning = True  # a card in its learning steps is crammed like any other

    def __init__(
        self, store: Store, cards: Sequence[Card], config: Config, *, record: bool = True, **kw: Any
    ) -> None:
        super().__init__(store, cards, config, new_limit=0, **kw)
        self.cards = {card.key: card for card in cards}
        # Every record of these cards: cards due later are what review-ahead is about.
        self.records = {key: r for key, r in store.cards().items() if key in self.cards}
        self.queue = list(cards)
        self.record = record

    def answer(
        self,
        card: Card,
        rating: Rating,
        *,
        duration_ms: int | None = None,
        seed: int | None = None,
        typed: str | None = None,
        correct: bool | None = None,
    ) -> Answered:
        if self.record:
            return super().answer(
                card, rating, duration_ms=duration_ms, seed=seed, typed=typed, correct=correct
            )
        before = self.record_of(card)
        answered = Answered(card, rating, before, self.outcomes(card)[rating], 0, correct=correct)
        self._outcomes.pop(card.key, None)
        self._take(card)
        if rating is Rating.AGAIN:
            self.queue.append(card)  # practised again before the session ends
        self.history.append(answered)
        self._tally(answered, 1)
        return answered

    def _take_back(self, last: Answered) -> None:
        if self.record:
            super()._take_back(last)
        else:
            self._tally(last, -1)

    def _tally(self, answered: Answered, sign: int) -> None:
        self.summary.reviewed += sign
        self.summary.grades[answered.rating] += sign
        if answered.correct is not None:
            self.summary.compute += sign
            self.summary.correct += sign * int(answered.correct)
