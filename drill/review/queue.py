"""The study day and the due queue.

A study day starts at `rollover_hour` local time, as in Anki, so a late-night session
counts toward the day it belongs to. Review cards are due for the whole day they fall in;
learning cards are due to the minute. Nothing here imports fsrs or numpy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from drill.home.config import Config
from drill.model import Card, CardState
from drill.review.store import CardRecord, DueDates

LEARNING_STATES = (CardState.LEARNING, CardState.RELEARNING)


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


@dataclass(frozen=True)
class DueCounts:
    new: int = 0
    learning: int = 0
    review: int = 0
    later_today: int = 0
    next_due: datetime | None = None
    new_waiting: int = 0  # new cards the day's new-card limit holds back

    @property
    def total(self) -> int:
        return self.new + self.learning + self.review


def count_due(
    cards: Sequence[Card],
    records: Mapping[str, CardRecord],
    now: datetime,
    config: Config,
    done_today: tuple[int, int] = (0, 0),
) -> DueCounts:
    """How many cards are due now, within the day's limits, and when the next one is.

    Learning cards count as due within the learn-ahead (see learning_horizon); those due
    later today count as `later_today`.
    """
    end = day_end(now, config.rollover_hour)
    horizon = learning_horizon(now, config)
    new = learning = review = later = 0
    next_due: datetime | None = None
    for card in cards:
        record = records.get(card.key)
        if record is not None and record.suspended:
            continue
        if record is None or record.state is CardState.NEW or record.due is None:
            new += 1
            continue
        due = record.due
        if record.state in LEARNING_STATES:
            if due <= horizon:
                learning += 1
                continue  # due now: not the "next card due" either
            if due < end:
                later += 1
        elif due < end:
            review += 1
            continue  # due all day, whatever its hour: shown today, or held back by the limit
        if due > now and (next_due is None or due < next_due):
            next_due = due
    new_left = max(0, config.new_per_day - done_today[0])
    reviews_left = max(0, config.reviews_per_day - done_today[1])
    held_new = config.new_per_day > 0 and new > new_left
    held_reviews = config.reviews_per_day > 0 and review > reviews_left
    if held_new or held_reviews:  # cards held back by a daily limit come the next study day
        next_due = end if next_due is None else min(next_due, end)
    return DueCounts(
        new=min(new, new_left),
        learning=learning,
        review=min(review, reviews_left),
        later_today=later,
        next_due=next_due,
        new_waiting=max(0, new - new_left) if config.new_per_day > 0 else 0,
    )


def count_due_by_deck(
    cards: Sequence[Card],
    records: Mapping[str, CardRecord],
    later: Mapping[str, datetime],
    now: datetime,
    config: Config,
    done_today: tuple[int, int] = (0, 0),
) -> tuple[dict[str, DueCounts], DueCounts]:
    """count_due for each deck of `cards` and for all of them, from the records and due
    dates a session reads (Store.session_records): review cards due after today, `later`,
    count toward nothing but when the next card is due, so they need no record."""
    soon: dict[str, list[Card]] = {card.deck_id: [] for card in cards}  # a row per deck
    due_later: dict[str, list[datetime]] = {deck_id: [] for deck_id in soon}
    for card in cards:
        if card.key in later:
            due_later[card.deck_id].append(later[card.key])
        else:
            soon[card.deck_id].append(card)
    rows = {
        deck_id: _earlier_next(
            count_due(deck_cards, records, now, config, done_today), due_later[deck_id]
        )
        for deck_id, deck_cards in soon.items()
    }
    every_soon = [card for deck_cards in soon.values() for card in deck_cards]
    every_later = [due for dues in due_later.values() for due in dues]
    total = count_due(every_soon, records, now, config, done_today)
    return rows, _earlier_next(total, every_later)


@dataclass(frozen=True)
class Tomorrow:
    """What the next study day holds, if today's due cards are all done today."""

    reviews: int = 0  # review and learning cards due by its end that today does not take
    new: int = 0  # new cards its limit lets in

    @property
    def total(self) -> int:
        return self.reviews + self.new


def count_tomorrow(
    cards: Sequence[Card],
    records: Mapping[str, CardRecord],
    later: DueDates,
    now: datetime,
    config: Config,
    today: DueCounts,
) -> Tomorrow:
    """Tomorrow's cards: those due by its end (today's held back by a limit included), less
    what `today` (count_due's counts) shows, within tomorrow's limits. `records` and
    `later` are what Store.session_records returns."""
    end = day_end(now, config.rollover_hour)
    until = day_end(end, config.rollover_hour)
    due = later.count_before((card.key for card in cards), until)
    new = 0
    for card in cards:
        record = records.get(card.key)
        if record is not None and record.suspended:
            continue
        if record is None and card.key in later:
            continue  # counted above
        if record is None or record.state is CardState.NEW or record.due is None:
            new += 1
        elif record.state is CardState.REVIEW:
            due += record.due < until  # today's too: those today takes are subtracted below
        else:
            due += end <= record.due < until
    reviews = min(due - today.review, config.reviews_per_day)
    new_next = min(new - today.new, config.new_per_day)
    return Tomorrow(reviews=max(0, reviews), new=max(0, new_next))


def _earlier_next(counts: DueCounts, dues: Sequence[datetime]) -> DueCounts:
    first = min(dues, default=None)
    if first is None or (counts.next_due is not None and counts.next_due <= first):
        return counts
    return replace(counts, next_due=first)


def build_queue(
    cards: Sequence[Card],
    records: Mapping[str, CardRecord],
    now: datetime,
    config: Config,
    done_today: tuple[int, int] = (0, 0),
    new_limit: int | None = None,
) -> list[Card]:
    """Due reviews (most overdue first) with new cards spread among them, within limits.

    Learning cards are not in this list: a session takes them as they come due.
    `new_limit` overrides what is left of the day's new-card allowance.
    """
    end = day_end(now, config.rollover_hour)
    reviews: list[tuple[datetime, int, Card]] = []
    new_cards: list[Card] = []
    for position, card in enumerate(cards):
        record = records.get(card.key)
        if record is not None and record.suspended:
            continue
        if record is None or record.state is CardState.NEW:
            new_cards.append(card)
        elif record.state is CardState.REVIEW and record.due is not None and record.due < end:
            reviews.append((record.due, position, card))
    reviews.sort(key=lambda item: (item[0], item[1]))
    reviews_left = max(0, config.reviews_per_day - done_today[1])
    due_reviews = [card for _, _, card in reviews[:reviews_left]]
    allowance = max(0, config.new_per_day - done_today[0]) if new_limit is None else new_limit
    return interleave(due_reviews, new_cards[: max(0, allowance)])


def interleave(reviews: list[Card], new_cards: list[Card]) -> list[Card]:
    """Spread new cards evenly among reviews, starting with a review when there is one."""
    if not reviews or not new_cards:
        return reviews + new_cards
    out: list[Card] = []
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
