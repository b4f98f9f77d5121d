"""Your own FSRS parameters: fit FSRS-6 to your review log, compare, simulate, reschedule.

Fitting and simulating use fsrs-rs-python, the Rust FSRS core that Anki uses; it is
imported inside the functions that need it, so no other command loads it.

- A card's history is its reviews (undone ones left out, renamed cards followed) as
  (study day, grade). As fsrs-rs expects, each review made on a later study day than the
  card's previous one is one training item: the history up to and including it.
- The comparison is a time-series split: items ordered by the time of their last review,
  parameters fitted on the older TRAIN_SHARE and every set scored on the newer rest, with
  fsrs-rs's log loss and RMSE (bins). Fitted parameters are kept only when their held-out
  log loss is lower than that of the parameters in use; the ones stored are then fitted
  again on the whole history.
- Rescheduling replays each card's reviews through drill's scheduler with the current
  parameters: the state, memory and due date it would have had.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from drill.errors import DrillError
from drill.home.config import Config
from drill.review.custom import current_key
from drill.review.queue import day_start
from drill.review.store import CardRecord, Review, Store

MIN_REVIEWS = 400
"""Training items (reviews on a later day than the card's previous one) drill asks for
before fitting: with fewer, a fit is mostly noise."""
TRAIN_SHARE = 0.8
DECIMALS = 4  # parameters are stored rounded, as Anki shows them


class NotEnoughReviews(DrillError):
    """Too few reviews to fit parameters to."""

    def __init__(self, have: int, need: int) -> None:
        self.have, self.need = have, need
        super().__init__(
            f"fitting parameters needs {need} reviews made on a later day than the card's "
            f"previous review; there are {have}: {need - have} more to go"
        )


class OptimizerError(DrillError):
    """fsrs-rs could not fit or simulate."""


# -- histories and training items ---------------------------------------------------------


def card_histories(
    reviews: Iterable[Review], renamed: dict[str, str], rollover_hour: int
) -> dict[str, list[tuple[datetime, date, int]]]:
    """Each card's reviews, oldest first, as (time, study day, grade), by current key."""
    follow = current_key(renamed)
    histories: dict[str, list[tuple[datetime, date, int]]] = {}
    for review in reviews:
        if review.undone:
            continue
        day = day_start(review.reviewed_at, rollover_hour).astimezone().date()
        histories.setdefault(follow(review.key), []).append(
            (review.reviewed_at, day, int(review.rating))
        )
    for history in histories.values():
        history.sort(key=lambda item: item[0])
    return histories


def training_items(histories: dict[str, list[tuple[datetime, date, int]]]) -> list[Any]:
    """fsrs-rs FSRSItems, oldest last review first: one per review made on a later study
    day than the card's previous review, holding the history up to it."""
    from fsrs_rs_python import FSRSItem, FSRSReview

    timed: list[tuple[datetime, Any]] = []
    for history in histories.values():
        steps: list[Any] = []
        previous = history[0][1]
        for moment, day, grade in history:
            delta = (day - previous).days
            steps.append(FSRSReview(grade, delta))
            previous = day
            if delta > 0:
                item = FSRSItem(list(steps))
                if item.long_term_review_cnt() > 0:
                    timed.append((moment, item))
    timed.sort(key=lambda pair: pair[0])
    return [item for _, item in timed]


# -- fitting ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Metrics:
    log_loss: float
    rmse_bins: float

    def to_dict(self) -> dict[str, float]:
        return {"log_loss": self.log_loss, "rmse_bins": self.rmse_bins}


@dataclass(frozen=True)
class Fit:
    items: int  # training items in the whole history
    held_out: int  # the newest items, scored and not trained on
    default: Metrics  # FSRS-6's default parameters, on the held-out items
    current: Metrics | None  # the parameters in use when they are not the defaults
    fitted: Metrics  # the parameters fitted on the older items
    parameters: tuple[float, ...]  # fitted on the whole history, to store

    @property
    def baseline(self) -> Metrics:
        return self.current or self.default

    @property
    def better(self) -> bool:
        return self.fitted.log_loss < self.baseline.log_loss

    @property
    def improvement(self) -> float:
        """How much lower the fitted log loss is, as a share of the baseline's."""
        return 1 - self.fitted.log_loss / self.baseline.log_loss

    def to_dict(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "held_out": self.held_out,
            "default": self.default.to_dict(),
            "current": self.current.to_dict() if self.current else None,
            "fitted": self.fitted.to_dict(),
            "better": self.better,
            "parameters": list(self.parameters),
        }


def default_parameters() -> tuple[float, ...]:
    from fsrs.scheduler import DEFAULT_PARAMETERS

    return tuple(DEFAULT_PARAMETERS)


def fit(store: Store, config: Config, *, min_reviews: int = MIN_REVIEWS) -> Fit:
    """Fit FSRS-6 to the store's review log and score it against the parameters in use."""
    histories = card_histories(store.iter_reviews(), store.renamed(), config.rollover_hour)
    return fit_items(training_items(histories), config.fsrs_parameters, min_reviews=min_reviews)


def fit_items(
    items: Sequence[Any], current: Sequence[float] = (), *, min_reviews: int = MIN_REVIEWS
) -> Fit:
    """fit() on training items ordered oldest first; `current`: parameters in use, if fitted."""
    if len(items) < min_reviews:
        raise NotEnoughReviews(len(items), min_reviews)
    cut = int(len(items) * TRAIN_SHARE)
    train, test = items[:cut], items[cut:]
    defaults = default_parameters()
    trained = _compute(train)
    return Fit(
        items=len(items),
        held_out=len(test),
        default=evaluate(defaults, test),
        current=evaluate(current, test) if current and tuple(current) != defaults else None,
        fitted=evaluate(trained, test),
        parameters=_compute(items),
    )


def evaluate(parameters: Sequence[float], items: Sequence[Any]) -> Metrics:
    from fsrs_rs_python import FSRS

    scores = FSRS(list(parameters)).evaluate(list(items))
    return Metrics(float(scores.log_loss), float(scores.rmse_bins))


def _compute(items: Sequence[Any]) -> tuple[float, ...]:
    """Parameters fitted to `items`, rounded and kept within the bounds the scheduler takes."""
    from fsrs.scheduler import LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS
    from fsrs_rs_python import FSRS

    try:
        fitted = FSRS(list(default_parameters())).compute_parameters(list(items))
    except Exception as error:  # fsrs-rs raises plain exceptions for data it cannot fit
        raise OptimizerError(f"fsrs-rs could not fit these reviews: {error}") from None
    if any(not math.isfinite(value) for value in fitted):
        raise OptimizerError("fsrs-rs returned parameters that are not numbers")
    return tuple(
        min(high, max(low, round(value, DECIMALS)))
        for value, low, high in zip(
            fitted, LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS, strict=True
        )
    )


def parameters_in_use(config: Config) -> tuple[float, ...]:
    return config.fsrs_parameters or default_parameters()


# -- the simulator ------------------------------------------------------------------------


@dataclass(frozen=True)
class Simulation:
    """fsrs-rs's simulation of studying a deck from scratch at one desired retention."""

    retention: float
    days: int
    reviews_per_day: float  # answers a day, new cards' first answers included, on average
    peak_reviews: int
    minutes_per_day: float
    memorized: float  # the sum of the cards' recall probabilities at the end: knowledge

    @property
    def memorized_per_hour(self) -> float:
        hours = self.minutes_per_day * self.days / 60
        return self.memorized / hours if hours else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "retention": self.retention,
            "days": self.days,
            "reviews_per_day": self.reviews_per_day,
            "peak_reviews": self.peak_reviews,
            "minutes_per_day": self.minutes_per_day,
            "memorized": self.memorized,
            "memorized_per_hour": self.memorized_per_hour,
        }


def simulate(
    config: Config,
    retentions: Sequence[float],
    *,
    cards: int,
    days: int,
    new_per_day: int,
    seed: int = 0,
) -> list[Simulation]:
    """The daily workload and the knowledge at the end of `days` days of studying `cards`
    new cards, `new_per_day` a day (reviews within config.reviews_per_day), for each
    desired retention, with the parameters in use. Answer times are fsrs-rs's defaults."""
    import fsrs_rs_python

    settings = fsrs_rs_python.default_simulator_config()
    settings.deck_size = cards
    settings.learn_span = days
    settings.learn_limit = new_per_day
    settings.review_limit = config.reviews_per_day
    settings.max_ivl = float(config.maximum_interval)
    settings.max_cost_perday = 86400.0  # limits are by count, as drill's are
    settings.learning_step_count = len(config.learning_steps)
    settings.relearning_step_count = len(config.relearning_steps)
    parameters = list(parameters_in_use(config))
    out = []
    for retention in retentions:
        try:
            result = fsrs_rs_python.simulate(parameters, retention, settings, seed)
        except Exception as error:
            raise OptimizerError(f"fsrs-rs could not simulate: {error}") from None
        answers = [
            r + n for r, n in zip(result.review_cnt_per_day, result.learn_cnt_per_day, strict=True)
        ]
        out.append(
            Simulation(
                retention=retention,
                days=days,
                reviews_per_day=sum(answers) / days,
                peak_reviews=max(answers, default=0),
                minutes_per_day=sum(result.cost_per_day) / days / 60,
                memorized=float(result.memorized_cnt_per_day[-1]),
            )
        )
    return out


# -- rescheduling -------------------------------------------------------------------------


def rescheduled(store: Store, scheduler: Any) -> list[CardRecord]:
    """The cards whose state, replayed from their reviews through `scheduler` (drill's,
    with the parameters in use), differs from the stored one: those states, suspension,
    leech tag, repetitions and lapses kept."""
    histories: dict[str, list[Review]] = {}
    follow = current_key(store.renamed())
    for review in store.iter_reviews():
        histories.setdefault(follow(review.key), []).append(review)
    stored = store.cards()
    changed = []
    for key, reviews in histories.items():
        old = stored.get(key)
        if old is None:
            continue  # reviews of a card since removed from the database
        replay = CardRecord(key=key)
        for review in reviews:
            replay = scheduler.review(replay, review.rating, review.reviewed_at)
        new = replace(
            old,
            state=replay.state,
            step=replay.step,
            stability=replay.stability,
            difficulty=replay.difficulty,
            due=replay.due,
            last_review=replay.last_review,
        )
        if new.to_dict() != old.to_dict():
            changed.append(new)
    return changed
