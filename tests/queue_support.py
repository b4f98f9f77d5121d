"""Due counts and queues for tests, two ways.

`count_due` and `build_queue` ask the real thing (drill.review.due, SQL over a scratch
store holding `records`), with the signature tests find easiest: cards, records, a moment,
a config, and what today's reviews used of the limits. `oracle_count_due` and
`oracle_build_queue` count card by card in Python, written from the rules, to compare.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from drill.home.config import Config
from drill.model import Card, CardState
from drill.review.due import CardList, DueQuery
from drill.review.queue import (
    LEARNING_STATES,
    DueCounts,
    day_end,
    interleave,
    learning_horizon,
)
from drill.review.store import CardRecord, Store


@contextmanager
def _query(
    cards: Sequence[Card],
    records: Mapping[str, CardRecord],
    now: datetime,
    config: Config,
    done_today: tuple[int, int],
) -> Iterator[DueQuery]:
    """A DueQuery over `cards`, on a scratch store holding `records`, as if today's
    reviews had used `done_today` of the limits."""
    with tempfile.TemporaryDirectory() as folder, Store(Path(folder) / "drill.db") as store:
        store.replace_states(records.values())
        with DueQuery(store, CardList(cards), now, config) as query:
            query.done_today = done_today
            yield query


def count_due(
    cards: Sequence[Card],
    records: Mapping[str, CardRecord],
    now: datetime,
    config: Config,
    done_today: tuple[int, int] = (0, 0),
) -> DueCounts:
    with _query(cards, records, now, config, done_today) as query:
        return query.total()


def build_queue(
    cards: Sequence[Card],
    records: Mapping[str, CardRecord],
    now: datetime,
    config: Config,
    done_today: tuple[int, int] = (0, 0),
    new_limit: int | None = None,
) -> list[Card]:
    with _query(cards, records, now, config, done_today) as query:
        reviews, new = query.queue_keys(new_limit)
    by_key = {card.key: card for card in cards}
    return [by_key[key] for key in interleave(reviews, new)]


def oracle_count_due(
    cards: Sequence[Card],
    records: Mapping[str, CardRecord],
    now: datetime,
    config: Config,
    done_today: tuple[int, int] = (0, 0),
) -> DueCounts:
    """What is due now, card by card: new (no record, new, or no due date), learning
    within the learn-ahead, reviews due today; suspended cards nowhere; within limits."""
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
                continue
            if due < end:
                later += 1
        elif due < end:
            review += 1
            continue
        if due > now and (next_due is None or due < next_due):
            next_due = due
    new_left = max(0, config.new_per_day - done_today[0])
    reviews_left = max(0, config.reviews_per_day - done_today[1])
    held_new = config.new_per_day > 0 and new > new_left
    held_reviews = config.reviews_per_day > 0 and review > reviews_left
    if held_new or held_reviews:
        next_due = end if next_due is None else min(next_due, end)
    return DueCounts(
        new=min(new, new_left),
        learning=learning,
        review=min(review, reviews_left),
        later_today=later,
        next_due=next_due,
        new_waiting=max(0, new - new_left) if config.new_per_day > 0 else 0,
    )


def oracle_build_queue(
    cards: Sequence[Card],
    records: Mapping[str, CardRecord],
    now: datetime,
    config: Config,
    done_today: tuple[int, int] = (0, 0),
) -> list[Card]:
    """Due reviews, most overdue first (ties in card order), new cards spread among them."""
    end = day_end(now, config.rollover_hour)
    reviews, new_cards = [], []
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
    new_left = max(0, config.new_per_day - done_today[0])
    return interleave([card for *_, card in reviews[:reviews_left]], new_cards[:new_left])


def vm_steps(store: Store, work) -> int:
    """SQLite virtual-machine steps `work` takes on the store's connection: a cost that
    does not depend on the machine, for tests of how work grows."""
    steps = 0

    def step() -> int:
        nonlocal steps
        steps += 1
        return 0  # go on

    store.db.set_progress_handler(step, 1)
    try:
        work()
    finally:
        store.db.set_progress_handler(None, 1)
    return steps
