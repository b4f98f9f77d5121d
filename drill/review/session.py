"""The review loop as pure logic: which card comes next, what each grade would do, and
recording answers. No terminal I/O here; the UI drives a Session.

Each answer is committed to the store before `answer` returns, so whatever happens to the
process afterwards, that review is kept.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from drill.home.config import Config
from drill.model import Card, CardState, Rating
from drill.review.due import CardList, DueQuery, KeySource, records_of
from drill.review.queue import (
    LEARNING_STATES,
    interleave,
    learning_due,
    learning_horizon,
    utc_now,
)
from drill.review.scheduler import Scheduler
from drill.review.siblings import siblings_in
from drill.review.store import CardRecord, Review, Store


def as_stored(record: CardRecord) -> CardRecord:
    """The record as the store keeps it (times to the millisecond), so the session's copy
    compares equal to the row it will read back inside its next write."""
    return CardRecord.from_dict(record.to_dict())


@dataclass(frozen=True)
class Answered:
    card: Card
    rating: Rating
    before: CardRecord
    after: CardRecord
    review_id: int
    became_leech: bool = False
    correct: bool | None = None  # for a compute card: whether the typed answer was right
    buried: tuple[Card, ...] = ()  # sibling cards taken out of the queue by this answer
    seed: int | None = None  # for a compute card: the seed of the exercise answered
    duration_ms: int | None = None  # time on the card, as logged


@dataclass(frozen=True)
class Suspended:
    """A card suspended during the session: undone like an answer, with its record before."""

    card: Card
    before: CardRecord | None


@dataclass
class Summary:
    reviewed: int = 0
    grades: Counter[Rating] = field(default_factory=Counter)
    correct: int = 0
    compute: int = 0
    started: float = field(default_factory=time.monotonic)
    next_due: datetime | None = None
    remaining: int = 0
    new_waiting: int = 0  # new cards the day's limit holds back

    answering_ms: int = 0  # the answers' logged durations, summed: what `drill stats` counts

    @property
    def elapsed(self) -> timedelta:
        """Wall-clock time since the session began (pauses between cards included)."""
        return timedelta(seconds=round(time.monotonic() - self.started))

    @property
    def answering(self) -> timedelta:
        """Time spent on the cards answered: the sum of their logged durations, so a
        session's time and `drill stats`'s time today are one figure."""
        return timedelta(milliseconds=self.answering_ms)


class Session:
    note: str | None = None
    """A line the study screen shows under the counts (custom study, an interview date)."""
    shows_learning = False
    """Whether a card of the queue in its learning steps is shown before it is due (custom
    study); a session otherwise shows learning cards as they come due."""

    def __init__(
        self,
        store: Store,
        cards: Sequence[Card] | KeySource,
        config: Config,
        *,
        clock: Callable[[], datetime] = utc_now,
        scheduler: Scheduler | None = None,
        new_limit: int | None = None,
        limit: int | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.clock = clock
        self.scheduler = scheduler or Scheduler(config)
        self.limit = limit
        self.rng = rng or random.Random()
        # Only the cards this session may show are read: due reviews and new cards within
        # the day's limits, and cards in their learning steps (drill.review.due).
        self.source: KeySource = CardList(cards) if isinstance(cards, Sequence) else cards
        with DueQuery(store, self.source, clock(), config) as query:
            reviews, new = query.queue_keys(new_limit)
            learning = query.learning_keys()
            keys = [*reviews, *new, *learning]
            self.records = records_of(store, keys)
        self.cards = self.source.cards(keys)
        self.queue = [self.cards[key] for key in interleave(reviews, new) if key in self.cards]
        self.history: list[Answered | Suspended] = []
        self.summary = Summary()
        self._front: list[Card] = []  # cards to show again first (after an undo)
        self._outcomes: dict[str, dict[Rating, CardRecord]] = {}
        self._seeds: dict[str, int] = {}  # compute cards: the exercise on screen, by key

    # -- what to show ------------------------------------------------------------------

    def next_card(self) -> Card | None:
        """The next card to review, or None when the session is done."""
        if self.limit is not None and self.summary.reviewed >= self.limit:
            return None
        if self._front:
            return self._front[0]
        now = self.clock()
        learning = learning_due(self.records, set(self.cards), now)
        if learning:
            return self.cards[learning[0].key]
        while self.queue:
            card = self.queue[0]
            record = self.records.get(card.key)
            in_steps = record is not None and record.state is CardState.LEARNING
            if record is None or (not record.suspended and (not in_steps or self.shows_learning)):
                return card
            self.queue.pop(0)  # answered or suspended since the queue was built
        learning = learning_due(self.records, set(self.cards), learning_horizon(now, self.config))
        return self.cards[learning[0].key] if learning else None

    def remaining(self) -> tuple[int, int, int]:
        """(new, learning, review) cards still to show in this session."""
        waiting = {card.key for card in self._front + self.queue}
        # By state, not by having a record: a card once suspended has one and is still new.
        states = [self.record_of_key(key).state for key in waiting]
        new = states.count(CardState.NEW)
        learning = sum(state in LEARNING_STATES for state in states)
        review = len(states) - new - learning
        # the same learning cards `drill due` and the summary count (learning_horizon)
        ahead = learning_horizon(self.clock(), self.config)
        due = learning_due(self.records, set(self.cards), ahead)
        learning += sum(1 for record in due if record.key not in waiting)  # each card once
        return new, learning, review

    def record_of(self, card: Card) -> CardRecord:
        return self.record_of_key(card.key)

    def record_of_key(self, key: str) -> CardRecord:
        return self.records.get(key) or CardRecord(key=key)

    def outcomes(self, card: Card) -> dict[Rating, CardRecord]:
        """The state after each grade, as of now; the same intervals are applied on answer."""
        if card.key not in self._outcomes:
            self._outcomes[card.key] = self.scheduler.outcomes(self.record_of(card), self.clock())
        return self._outcomes[card.key]

    def intervals(self, card: Card) -> dict[Rating, timedelta]:
        now = self.clock()
        outcomes = self.outcomes(card).items()
        return {rating: (rec.due or now) - (rec.last_review or now) for rating, rec in outcomes}

    def new_seed(self) -> int:
        return self.rng.randrange(2**31)

    def exercise_seed(self, card: Card) -> int:
        """The seed of the exercise `card` shows: the same one until it is answered (a
        redraw shows the same numbers), and after an undo the one that was answered."""
        if card.key not in self._seeds:
            self._seeds[card.key] = self.new_seed()
        return self._seeds[card.key]

    # -- what the user does ------------------------------------------------------------

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
        loaded = self.record_of(card)
        shown = self.outcomes(card)[rating]
        leech = False

        def grade(current: CardRecord) -> tuple[Review, CardRecord]:
            # `current` is the card's row as of this write: when another session reviewed
            # the card since this one loaded it, the grade applies to that newer state. The
            # time is read here, holding the write lock, so log times follow commit order.
            nonlocal leech
            now = self.clock()
            if current == loaded:
                after = self._as_of_now(shown, now)
            else:
                after = self.scheduler.review(current, rating, now)
            after, leech = self._check_leech(current, after)
            review = Review(
                key=card.key,
                reviewed_at=after.last_review or now,
                rating=rating,
                state_before=current.state,
                state_after=after.state,
                due_after=after.due or now,
                duration_ms=duration_ms,
                stability=after.stability,
                difficulty=after.difficulty,
                seed=seed,
                answer=typed,
                correct=correct,
            )
            return review, after

        review_id, before, after = self.store.record_answer(card.key, grade)
        after = as_stored(after)
        became_leech = leech
        self.records[card.key] = after
        self._outcomes.pop(card.key, None)
        self._take(card)
        buried = siblings_in(self.queue, card)
        self.queue = [queued for queued in self.queue if queued not in buried]
        answered = Answered(
            card,
            rating,
            before,
            after,
            review_id,
            became_leech,
            correct,
            tuple(buried),
            seed,
            duration_ms,
        )
        self._seeds.pop(card.key, None)  # the next review of it is a fresh exercise
        self.history.append(answered)
        self.summary.reviewed += 1
        self.summary.grades[rating] += 1
        self.summary.answering_ms += duration_ms or 0
        if correct is not None:
            self.summary.compute += 1
            self.summary.correct += int(correct)
        return answered

    def undo(self) -> Card | None:
        """Take back the last answer or suspension of this session; its card is shown next."""
        if not self.history:
            return None
        last = self.history.pop()
        if isinstance(last, Suspended):
            self._unsuspend(last)
        else:
            self._take_back(last)
            if last.seed is not None:  # graded again on the exercise it was answered on
                self._seeds[last.card.key] = last.seed
        self._outcomes.pop(last.card.key, None)
        # Once at the front: undoing two answers to one card must not show it twice.
        self._front = [card for card in self._front if card.key != last.card.key]
        self._front.insert(0, last.card)
        return last.card

    def suspend(self, card: Card) -> None:
        self.history.append(Suspended(card, self.records.get(card.key)))
        self.store.set_suspended([card.key], True)
        self.records[card.key] = replace(self.record_of(card), suspended=True)
        self._take(card)

    def skip(self, card: Card) -> None:
        """Leave a card for another day without grading it."""
        self._take(card)
        if card.key in self.records and self.records[card.key].state is not CardState.REVIEW:
            # a learning card would come straight back: hide it for this session
            self.cards.pop(card.key, None)

    def finish(self) -> Summary:
        """Close the session's accounting: what is left today and when the next card is due."""
        with DueQuery(self.store, self.source, self.clock(), self.config) as query:
            counts = query.total()
        self.summary.remaining = counts.total
        self.summary.new_waiting = counts.new_waiting
        self.summary.next_due = self.clock() if counts.total else counts.next_due
        return self.summary

    def _take(self, card: Card) -> None:
        if self._front and self._front[0].key == card.key:
            self._front.pop(0)
        self.queue = [c for c in self.queue if c.key != card.key]

    def _take_back(self, last: Answered) -> None:
        self.store.undo(last.review_id, self.clock(), key=last.card.key)
        if last.before.reps == 0 and not last.before.suspended:
            self.records.pop(last.card.key, None)
        else:
            self.records[last.card.key] = last.before
        self.queue[0:0] = [card for card in last.buried if card not in self.queue]
        self.summary.reviewed -= 1
        self.summary.grades[last.rating] -= 1
        self.summary.answering_ms -= last.duration_ms or 0
        if last.correct is not None:
            self.summary.compute -= 1
            self.summary.correct -= int(last.correct)

    def _unsuspend(self, last: Suspended) -> None:
        self.store.set_suspended([last.card.key], False)
        if last.before is None:
            self.records.pop(last.card.key, None)
        else:
            self.records[last.card.key] = last.before

    def _as_of_now(self, outcome: CardRecord, now: datetime) -> CardRecord:
        """An outcome worked out when the grades were shown, moved to the time of the answer:
        its interval starts when the grade is given, however long the answer was on screen."""
        shown_at = outcome.last_review
        if shown_at is None or outcome.due is None or now <= shown_at:
            return outcome
        return replace(outcome, due=outcome.due + (now - shown_at), last_review=now)

    def _check_leech(self, before: CardRecord, after: CardRecord) -> tuple[CardRecord, bool]:
        """A card that lapses `leech_threshold` times (and every half threshold after)."""
        threshold = self.config.leech_threshold
        if after.lapses == before.lapses or after.lapses < threshold:
            return after, False
        if (after.lapses - threshold) % max(1, threshold // 2):
            return after, False
        suspend = self.config.leech_action == "suspend"
        return replace(after, leech=True, suspended=after.suspended or suspend), True
