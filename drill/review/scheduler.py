"""FSRS scheduling through the `fsrs` package, translated to and from drill's CardRecord.

fsrs is imported on first use, so commands that only count due cards never load it.
Fuzzing draws from Python's `random`; we seed it per card and repetition, so the interval
shown under a grade is exactly the one applied, and a replay gives the same schedule.
"""

from __future__ import annotations

import zlib
from collections.abc import Container
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from drill.errors import ConfigError
from drill.home.config import Config
from drill.model import CardState, Rating
from drill.review.queue import rollover_moment
from drill.review.store import CardRecord

if TYPE_CHECKING:
    import fsrs


PREP_DAYS = 3
"""While an interview date is set, a review that would fall after it lands in one of the last
PREP_DAYS study days before it instead; a card reviewed in those days keeps its interval."""


class Scheduler:
    def __init__(self, config: Config, *, toward_date: Container[str] | None = None) -> None:
        """`toward_date`: the card keys the interview date applies to (None: every card)."""
        self.config = config
        self.toward_date = toward_date
        self._fsrs: fsrs.Scheduler | None = None

    @property
    def fsrs(self) -> fsrs.Scheduler:
        if self._fsrs is None:
            import fsrs

            # The parameters `drill optimize` fitted, when there are some.
            fitted = (
                {"parameters": self.config.fsrs_parameters} if self.config.fsrs_parameters else {}
            )
            try:
                self._fsrs = fsrs.Scheduler(
                    **fitted,
                    desired_retention=self.config.desired_retention,
                    learning_steps=self.config.learning_deltas,
                    relearning_steps=self.config.relearning_deltas,
                    maximum_interval=self.config.maximum_interval,
                    enable_fuzzing=self.config.fuzz,
                )
            except ValueError as error:  # fitted parameters out of FSRS's bounds
                raise ConfigError(f"fsrs_parameters: {error}") from None
        return self._fsrs

    def outcomes(self, record: CardRecord, now: datetime) -> dict[Rating, CardRecord]:
        """The card's next state for each of the four grades, reviewed at `now`."""
        _require_utc(now)
        return {rating: self.review(record, rating, now) for rating in Rating}

    def review(self, record: CardRecord, rating: Rating, now: datetime) -> CardRecord:
        """The card's state after being graded `rating` at `now` (nothing is stored)."""
        import random  # here, with fsrs: counting due cards needs neither

        import fsrs

        _require_utc(now)
        saved = random.getstate()
        random.seed(f"{record.key}:{record.reps}")
        try:
            card, _log = self.fsrs.review_card(_to_fsrs(record, now), fsrs.Rating(int(rating)), now)
        finally:
            random.setstate(saved)
        lapsed = record.state is CardState.REVIEW and rating is Rating.AGAIN
        return replace(
            record,
            state=CardState(int(card.state)),
            step=card.step,
            stability=card.stability,
            difficulty=card.difficulty,
            due=self.before_date(record, card.due.astimezone(UTC), now),
            last_review=now,
            reps=record.reps + 1,
            lapses=record.lapses + int(lapsed),
        )

    def before_date(self, record: CardRecord, due: datetime, now: datetime) -> datetime:
        """`due`, or, when it falls after the interview date and the card is reviewed before
        the last PREP_DAYS study days, a day among those (spread by key and repetition)."""
        day = self.config.interview_day
        if day is None or (self.toward_date is not None and record.key not in self.toward_date):
            return due
        hour = self.config.rollover_hour
        last_days = rollover_moment(day - timedelta(days=PREP_DAYS), hour)
        if due <= rollover_moment(day, hour) or now >= last_days:
            return due
        back = 1 + zlib.crc32(f"{record.key}:{record.reps}".encode()) % PREP_DAYS
        return rollover_moment(day - timedelta(days=back), hour)

    def retrievability(self, record: CardRecord, now: datetime) -> float:
        if record.state is CardState.NEW:
            return 0.0
        return float(self.fsrs.get_card_retrievability(_to_fsrs(record, now), now))


def _to_fsrs(record: CardRecord, now: datetime) -> fsrs.Card:
    import fsrs

    if record.state is CardState.NEW:
        return fsrs.Card(card_id=1, state=fsrs.State.Learning, step=0, due=now)
    return fsrs.Card(
        card_id=1,
        state=fsrs.State(int(record.state)),
        step=record.step,
        stability=record.stability,
        difficulty=record.difficulty,
        due=record.due or now,
        last_review=record.last_review,
    )


def _require_utc(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() != timedelta(0):
        raise ValueError("datetime must be timezone-aware and set to UTC")


def format_interval(delta: timedelta) -> str:
    """A short human interval as Anki shows it under a grade: <1m, 10m, 3h, 4d, 2.1mo, 1.5y."""
    seconds = delta.total_seconds()
    if seconds < 60:
        return "<1m"
    # The unit is chosen after rounding: a day less a moment is "1d", not "24h".
    if round(seconds / 60) < 60:
        return f"{round(seconds / 60)}m"
    if round(seconds / 3600) < 24:
        return f"{round(seconds / 3600)}h"
    days = seconds / 86400
    if days < 30:
        return f"{round(days)}d"
    if days < 365:
        return f"{days / 30:.1f}mo"
    return f"{days / 365:.1f}y"
