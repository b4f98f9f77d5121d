"""Preparing for a date: predicted recall on it, readiness per deck and tag, and the plan.

Predicted recall is FSRS-6's retrievability at the date, from each card's memory state:

    R(t, S) = (1 + factor · t / S) ^ (−w20),   factor = 0.9 ^ (−1 / w20) − 1

with t the days from the card's last review to the date (fractions of a day count), S its
stability and w20 the decay of the parameters in use. A card never reviewed has recall 0.
"The date" is the moment its study day begins (its rollover hour, local time).

The plan spreads the new cards evenly over the study days left (today to the day before
the date) and follows every card through the real scheduler, the interview date in force,
assuming each answer is *good*; each review adds the expected relearning answers of a
lapse, (1 − R) per relearning step. So it says how many new cards and reviews a day it
takes to have every card seen, and reviewed shortly before the date, at the target
retention. Nothing here imports fsrs except the plan's scheduler, on first use.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from drill.errors import DrillError
from drill.home.config import Config
from drill.model import Card, CardState, Rating
from drill.review.queue import day_start, rollover_moment
from drill.review.store import CardRecord

DEFAULT_DECAY = 0.1542
"""w20 of FSRS-6's default parameters (tests check it against the fsrs package), so that
predicted recall needs no fsrs import."""
MAX_DAYS_AHEAD = 730
"""A plan looks at most this many days ahead."""


class PlanError(DrillError):
    """The date cannot be planned for."""


# -- predicted recall ---------------------------------------------------------------------


def decay_of(config: Config) -> float:
    """w20 of the parameters the scheduler uses: the fitted ones, else FSRS-6's defaults."""
    return config.fsrs_parameters[20] if config.fsrs_parameters else DEFAULT_DECAY


def retrievability(elapsed_days: float, stability: float, decay: float) -> float:
    """FSRS-6's probability of recall `elapsed_days` after a review that left `stability`."""
    factor = 0.9 ** (-1 / decay) - 1
    return (1 + factor * max(0.0, elapsed_days) / stability) ** -decay


def predicted_recall(record: CardRecord | None, at: datetime, decay: float) -> float:
    """The probability of recalling the card at `at`, were it not reviewed before; 0 if new."""
    if (
        record is None
        or record.state is CardState.NEW
        or not record.stability
        or record.last_review is None
    ):
        return 0.0
    elapsed = (at - record.last_review).total_seconds() / 86400
    return retrievability(elapsed, record.stability, decay)


def date_moment(day: date, config: Config) -> datetime:
    """The moment `day` begins for drill: its rollover hour, local time, in UTC."""
    return rollover_moment(day, config.rollover_hour)


def study_today(now: datetime, config: Config) -> date:
    return day_start(now, config.rollover_hour).astimezone().date()


def days_left(now: datetime, day: date, config: Config) -> int:
    """Study days from today up to (not including) `day`."""
    return (day - study_today(now, config)).days


# -- readiness ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    """The predicted recall on the date of one deck's or tag's cards (their mean)."""

    name: str
    cards: int
    new: int
    recall: float

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "cards": self.cards, "new": self.new, "recall": self.recall}


@dataclass(frozen=True)
class Readiness:
    day: date
    days_left: int
    cards: int
    new: int
    recall: float  # the mean over the cards, new ones counting 0
    decks: tuple[Group, ...]  # weakest first
    tags: tuple[Group, ...]  # weakest first

    def to_dict(self) -> dict[str, Any]:
        return {
            "date": self.day.isoformat(),
            "days_left": self.days_left,
            "cards": self.cards,
            "new": self.new,
            "recall": self.recall,
            "decks": [group.to_dict() for group in self.decks],
            "tags": [group.to_dict() for group in self.tags],
        }


def readiness(
    cards: Sequence[Card],
    records: Mapping[str, CardRecord],
    now: datetime,
    day: date,
    config: Config,
    tags_of: Callable[[Card], Sequence[str]] | None = None,
) -> Readiness:
    """Each card's predicted recall on `day` as things stand, by deck and by tag.

    Suspended cards are left out: they are kept out of study. `tags_of` gives a card's tags
    (the collection's, with its deck's tags); by default the card's own.
    """
    moment = date_moment(day, config)
    decay = decay_of(config)
    tags_of = tags_of or (lambda card: card.tags)
    by_deck: dict[str, list[tuple[float, bool]]] = {}
    by_tag: dict[str, list[tuple[float, bool]]] = {}
    every: list[tuple[float, bool]] = []
    for card in active(cards, records):
        record = records.get(card.key)
        value = (predicted_recall(record, moment, decay), is_new(record))
        every.append(value)
        by_deck.setdefault(card.deck_id, []).append(value)
        for tag in tags_of(card):
            by_tag.setdefault(tag, []).append(value)
    return Readiness(
        day=day,
        days_left=days_left(now, day, config),
        cards=len(every),
        new=sum(new for _, new in every),
        recall=_mean(every),
        decks=_weakest_first(by_deck),
        tags=_weakest_first(by_tag),
    )


def active(cards: Sequence[Card], records: Mapping[str, CardRecord]) -> list[Card]:
    """The cards not suspended."""
    return [card for card in cards if not _suspended(records.get(card.key))]


def is_new(record: CardRecord | None) -> bool:
    return record is None or record.state is CardState.NEW


def _suspended(record: CardRecord | None) -> bool:
    return record is not None and record.suspended


def _mean(values: Sequence[tuple[float, bool]]) -> float:
    return sum(recall for recall, _ in values) / len(values) if values else 0.0


def _weakest_first(groups: Mapping[str, list[tuple[float, bool]]]) -> tuple[Group, ...]:
    rows = [
        Group(name, len(values), sum(new for _, new in values), _mean(values))
        for name, values in groups.items()
    ]
    return tuple(sorted(rows, key=lambda group: (group.recall, group.name)))


# -- the plan -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanDay:
    day: date
    new: int
    reviews: float  # expected answers to cards already seen (learning steps included)

    def to_dict(self) -> dict[str, Any]:
        return {"date": self.day.isoformat(), "new": self.new, "reviews": round(self.reviews, 1)}


@dataclass(frozen=True)
class Plan:
    readiness: Readiness  # as things stand
    target_retention: float
    new_per_day: int
    days: tuple[PlanDay, ...]  # today to the day before the date
    recall_after: float  # mean predicted recall on the date, the plan followed
    lowest_after: float
    introduced: Mapping[str, date] = field(default_factory=dict)  # new card -> its first day
    last_review: Mapping[str, date] = field(default_factory=dict)  # card -> its last planned day

    @property
    def reviews_per_day(self) -> float:
        return sum(day.reviews for day in self.days) / len(self.days)

    @property
    def peak_reviews(self) -> float:
        return max(day.reviews for day in self.days)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.readiness.to_dict(),
            "target_retention": self.target_retention,
            "new_per_day": self.new_per_day,
            "reviews_per_day": round(self.reviews_per_day, 1),
            "peak_reviews": round(self.peak_reviews, 1),
            "recall_after": self.recall_after,
            "lowest_after": self.lowest_after,
            "days": [day.to_dict() for day in self.days],
        }


def check_date(now: datetime, day: date, config: Config) -> int:
    """The study days left before `day`; PlanError when it is not ahead or too far."""
    left = days_left(now, day, config)
    if left < 1:
        raise PlanError(f"{day.isoformat()} is not after today: give a date still ahead")
    if left > MAX_DAYS_AHEAD:
        raise PlanError(
            f"{day.isoformat()} is {left} days away: a plan looks at most {MAX_DAYS_AHEAD} ahead"
        )
    return left


def new_pace(unseen: int, days: int) -> int:
    """New cards a day to see `unseen` cards in `days` study days."""
    return math.ceil(unseen / days) if unseen and days > 0 else 0


def make_plan(
    cards: Sequence[Card],
    records: Mapping[str, CardRecord],
    now: datetime,
    day: date,
    config: Config,
    tags_of: Callable[[Card], Sequence[str]] | None = None,
) -> Plan:
    """What it takes to have `cards` seen and at the target retention on `day`."""
    from drill.review.scheduler import Scheduler  # loads fsrs on first use

    left = check_date(now, day, config)
    today = study_today(now, config)
    planned = replace(config, interview_date=day.isoformat())
    follower = _Follower(
        Scheduler(planned),
        starts=[date_moment(today + timedelta(days=i), config) for i in range(left + 1)],
        now=now,
        relearning=len(config.relearning_steps),
        decay=decay_of(config),
    )
    chosen = active(cards, records)
    unseen = [card for card in chosen if is_new(records.get(card.key))]
    pace = new_pace(len(unseen), left)
    first_day = {card.key: index // pace for index, card in enumerate(unseen)}
    finals: list[float] = []
    introduced: dict[str, date] = {}
    last_review: dict[str, date] = {}
    for card in chosen:
        record = records.get(card.key) or CardRecord(key=card.key)
        start = first_day.get(card.key)
        final, last = follower.follow(record, start)
        finals.append(predicted_recall(final, follower.starts[-1], follower.decay))
        if start is not None:
            introduced[card.key] = today + timedelta(days=start)
        if last is not None:
            last_review[card.key] = today + timedelta(days=last)
    days = tuple(
        PlanDay(today + timedelta(days=i), follower.new[i], follower.reviews[i])
        for i in range(left)
    )
    return Plan(
        readiness=readiness(cards, records, now, day, config, tags_of),
        target_retention=config.desired_retention,
        new_per_day=pace,
        days=days,
        recall_after=sum(finals) / len(finals) if finals else 0.0,
        lowest_after=min(finals, default=0.0),
        introduced=introduced,
        last_review=last_review,
    )


class _Follower:
    """Follows cards through the scheduler, day by day, counting the answers of each day."""

    MAX_ANSWERS = 500  # per card: far more than any schedule to the date takes

    def __init__(
        self, scheduler: Any, starts: list[datetime], now: datetime, relearning: int, decay: float
    ) -> None:
        self.scheduler = scheduler
        self.starts = starts  # each study day's first moment; the last is the date's
        self.now = now
        self.relearning = relearning
        self.decay = decay
        self.new = [0] * (len(starts) - 1)
        self.reviews = [0.0] * (len(starts) - 1)

    def follow(self, record: CardRecord, first_day: int | None) -> tuple[CardRecord, int | None]:
        """The card's state on the date, and the index of the last day it is answered."""
        last = None
        for _ in range(self.MAX_ANSWERS):
            if first_day is not None and is_new(record):
                index, at = first_day, self._study_time(first_day)
            elif record.due is None or is_new(record) or record.due >= self.starts[-1]:
                return record, last
            else:
                index = max(0, bisect.bisect_right(self.starts, record.due) - 1)
                at = max(record.due, self._study_time(index))
            if is_new(record):
                self.new[index] += 1
            else:
                self.reviews[index] += 1
                if record.state is CardState.REVIEW:  # a lapse would add relearning steps
                    recall = predicted_recall(record, at, self.decay)
                    self.reviews[index] += (1 - recall) * self.relearning
            record = self.scheduler.review(record, Rating.GOOD, at)
            last = index
        return record, last

    def _study_time(self, index: int) -> datetime:
        return max(self.now, self.starts[index])


# -- pacing sessions toward a stored date -------------------------------------------------


def paced_config(
    config: Config,
    cards: Sequence[Card],
    records: Mapping[str, CardRecord],
    seen_later: Container[str],
    now: datetime,
    new_today: int,
) -> Config:
    """`config` with new_per_day set to the plan's pace while a date is ahead: the new cards
    of `cards` left, with those introduced today, spread over the study days left.

    `records` and `seen_later` are what Store.session_records returns: a card in neither,
    or new in `records`, is unseen.
    """
    day = config.interview_day
    if day is None:
        return config
    left = days_left(now, day, config)
    if left < 1:
        return config
    unseen = sum(
        1
        for card in active(cards, records)
        if card.key not in seen_later and is_new(records.get(card.key))
    )
    return replace(config, new_per_day=new_pace(unseen + new_today, left))
