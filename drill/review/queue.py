"""The study day, and the values due counts are made of.

A study day starts at `rollover_hour` local time, as in Anki, so a late-night session
counts toward the day it belongs to. Review cards are due for the whole day they fall in;
learning cards are due to the minute. The counting itself is SQL (drill.review.due).
Nothing here imports fsrs or numpy.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple, TypeVar

from drill.home.config import Config
from drill.model import CardState
from drill.review.store import CardRecord

LEARNING_STATES = (CardState.LEARNING, CardState.RELEARNING)
T = TypeVar("T")  # what a queue holds: cards, or their keys


def day_start(now: datetime, rollover_hour: int) -> datetime:
    """The UTC moment the study day containing `now` began (local time, DST-aware)."""
    local = now.astimezone()
    start_date: date = local.date()
    if local.hour < rollover_hour:
        start_date -= timedelta(days=1)
    return rollover_moment(start_date, rollover_hour)


def day_end(now: datetime, rollover_hour: int) -> datetime:
    start = day_start(now, rollover_hour).astimezone()
    return rollover_moment(start.date() + timedelta(days=1), rollover_hour)


def rollover_moment(day: date, hour: int) -> datetime:
    """The UTC moment the local clock first reads `hour`:00 on `day`; when daylight saving
    skips that hour, the moment the clock jumps past it."""
    wall = datetime.combine(day, time(hour))
    # A naive datetime passed to astimezone() is read as local time, DST included. In a
    # skipped hour it comes back as another wall time (an hour early): fold=1 gives the
    # moment after the jump instead. In a repeated hour fold=0 keeps the first of the two.
    moment = wall.astimezone(UTC)
    if moment.astimezone().replace(tzinfo=None) != wall:
        moment = wall.replace(fold=1).astimezone(UTC)
    return moment


def learning_horizon(now: datetime, config: Config) -> datetime:
    """Learning cards due by this moment count as due now: a session shows them now, once
    nothing else is left (Anki's learn-ahead limit). The one definition of "due now" for
    learning cards, used by `drill due`, the study screen's counts and its summary."""
    return now + timedelta(minutes=config.learn_ahead_minutes)


class DueCounts(NamedTuple):
    new: int = 0
    learning: int = 0
    review: int = 0
    later_today: int = 0
    next_due: datetime | None = None
    new_waiting: int = 0  # new cards the day's new-card limit holds back

    @property
    def total(self) -> int:
        return self.new + self.learning + self.review


class Tomorrow(NamedTuple):
    """What the next study day holds, if today's due cards are all done today."""

    reviews: int = 0  # review and learning cards due by its end that today does not take
    new: int = 0  # new cards its limit lets in

    @property
    def total(self) -> int:
        return self.reviews + self.new


def utc_now() -> datetime:
    """The commands' clock (tests set it here)."""
    return datetime.now(UTC)


def interleave(reviews: list[T], new_cards: list[T]) -> list[T]:
    """Spread new cards evenly among reviews, starting with a review when there is one."""
    if not reviews or not new_cards:
        return reviews + new_cards
    out: list[T] = []
    total = len(reviews) + len(new_cards)
    placed_new = 0
    review_iter = iter(reviews)
    for slot in range(total):
        # Place the k-th new card at the slot where k/len(new) of the queue has passed.
        due_new = (slot + 1) * len(new_cards) // total
        if placed_new < due_new:
            out.append(new_cards[placed_new])
            placed_new += 1
        else:
            out.append(next(review_iter))
    return out


def learning_due(
    records: Mapping[str, CardRecord], keys: set[str], until: datetime
) -> list[CardRecord]:
    """Learning and relearning cards among `keys` due by `until`, earliest first."""
    due = [
        r
        for key, r in records.items()
        if key in keys
        and r.state in LEARNING_STATES
        and not r.suspended
        and r.due is not None
        and r.due <= until
    ]
    return sorted(due, key=lambda r: r.due or until)
