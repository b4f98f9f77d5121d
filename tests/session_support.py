"""What the session tests share: a fixed start time, a clock to move, small decks."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from drill.home.config import Config
from drill.model import Card
from drill.review.session import Session
from drill.review.store import CardRecord, Store, _put_card

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Clock:
    """An injected clock that only moves when told to."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def deck(n: int) -> list[Card]:
    return [Card("d", f"c{i}", q=f"q{i}", a=f"a{i}") for i in range(n)]


def session(store: Store, cards: list[Card], clock: Clock, **config) -> Session:
    return Session(store, cards, Config(fuzz=False, **config), clock=clock, rng=random.Random(1))


def put(store: Store, record: CardRecord) -> None:
    """Give a card a schedule directly, as if it had been reviewed before."""
    with store.write() as db:
        _put_card(db, record)
