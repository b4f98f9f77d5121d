"""The figures behind `drill stats`: card counts, true retention, the forecast, the calendar.

Pure data, no printing: `collect` reads a Store at a given `now` and returns a frozen
`Stats` whose `to_dict` is the `--json` form. Everything that grows with the review log is
counted in SQL as ranges of an index (a study day, or a window's reviews of one kind),
which SQLite steps through without reading or testing each review. The few reviews that
must not count (undone ones, a card's repeats within a study day) are found apart and
taken away.

Definitions, chosen to match Anki's statistics:

- A study day starts at `rollover_hour` local time (see drill.review.queue.day_start).
- True retention is the pass rate (any grade but Again) of reviews of cards that were in
  the review state, counting only a card's first review of the study day. A review is
  *young* when the card's scheduled interval at that moment — the time from its previous
  review to the due date set then, Anki's "last interval" — is under 21 days, else *mature*.
- Windows end with today: today, the last 7, 30 and 365 study days.
- Undone reviews never count.
"""

from __future__ import annotations

import sqlite3
from bisect import bisect_right
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING, Any, NamedTuple

from drill.model import Card, CardState, Rating
from drill.review.due import CardList, KeySource
from drill.review.m008_stats_ranges import REPEAT_MS, REPEAT_TEST, YOUNG_MS
from drill.review.queue import day_start, rollover_moment
from drill.review.store import Store, to_ms

if TYPE_CHECKING:  # the planning module is loaded only while an interview date is set
    from drill.review.planning import Readiness

DAY_MS = 86_400_000
YOUNG_DAYS = YOUNG_MS // DAY_MS  # 21: stored with each review (see m008_stats_ranges)
WINDOWS = (("today", 1), ("week", 7), ("month", 30), ("year", 365))
FORECAST_DAYS = 30
CALENDAR_DAYS = 365
HARDEST = 10


# -- values -------------------------------------------------------------------------------


class CardCounts(NamedTuple):
    """Cards by learning state. Suspended cards count only as suspended."""

    new: int = 0
    learning: int = 0
    review: int = 0
    relearning: int = 0
    suspended: int = 0
    leeches: int = 0  # tagged leeches, suspended or not (also counted above)

    @property
    def total(self) -> int:
        return self.new + self.learning + self.review + self.relearning + self.suspended

    def to_dict(self) -> dict[str, int]:
        return {
            "total": self.total,
            "new": self.new,
            "learning": self.learning,
            "review": self.review,
            "relearning": self.relearning,
            "suspended": self.suspended,
            "leeches": self.leeches,
        }


class PassRate(NamedTuple):
    passed: int = 0
    failed: int = 0

    @property
    def reviews(self) -> int:
        return self.passed + self.failed

    @property
    def rate(self) -> float | None:
        """The share passed, or None when there was nothing to pass."""
        return self.passed / self.reviews if self.reviews else None

    def __add__(self, other: PassRate) -> PassRate:
        return PassRate(self.passed + other.passed, self.failed + other.failed)

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "failed": self.failed, "rate": self.rate}


class Retention(NamedTuple):
    """True retention over one window, split young and mature."""

    young: PassRate = PassRate()
    mature: PassRate = PassRate()

    @property
    def total(self) -> PassRate:
        return self.young + self.mature

    def __add__(self, other: Retention) -> Retention:
        return Retention(self.young + other.young, self.mature + other.mature)

    def to_dict(self) -> dict[str, Any]:
        return {
            "young": self.young.to_dict(),
            "mature": self.mature.to_dict(),
            "total": self.total.to_dict(),
        }


class DayCount(NamedTuple):
    day: date
    count: int

    def to_dict(self) -> dict[str, Any]:
        return {"date": self.day.isoformat(), "count": self.count}


class CardTrouble(NamedTuple):
    """A card that keeps lapsing: what the hardest-cards and leech lists show."""

    key: str
    lapses: int
    reviews: int
    state: CardState
    suspended: bool
    leech: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "lapses": self.lapses,
            "reviews": self.reviews,
            "state": self.state.name.lower(),
            "suspended": self.suspended,
            "leech": self.leech,
        }


class GeneratorScore(NamedTuple):
    """How often typed answers to one compute generator's exercises were right."""

    generator: str
    attempts: int
    correct: int

    @property
    def rate(self) -> float:
        return self.correct / self.attempts

    def to_dict(self) -> dict[str, Any]:
        return {
            "generator": self.generator,
            "attempts": self.attempts,
            "correct": self.correct,
            "rate": self.rate,
        }


# The figures' parts are NamedTuples: a frozen dataclass costs ~1 ms to create at import.
@dataclass(frozen=True)
class Stats:
    now: datetime
    today: date
    cards: CardCounts
    reviews_today: int
    seconds_today: float
    streak: int
    studied_today: bool
    retention: Mapping[str, Retention]  # by window name, as in WINDOWS
    forecast: tuple[DayCount, ...]  # today (overdue included) and the next 29 days
    calendar: tuple[DayCount, ...]  # reviews per study day, oldest first, ending today
    hardest: tuple[CardTrouble, ...]
    leeches: tuple[CardTrouble, ...]
    generators: tuple[GeneratorScore, ...]
    decks: tuple[str, ...] = field(default=())  # the decks asked for; () means all
    interview: Readiness | None = None  # toward a stored interview date (drill plan --set)

    def to_dict(self) -> dict[str, Any]:
        interview = {"interview": self.interview.to_dict()} if self.interview else {}
        return {
            "now": self.now.isoformat(),
            "today": self.today.isoformat(),
            "decks": list(self.decks) or None,
            "cards": self.cards.to_dict(),
            "reviews_today": self.reviews_today,
            "seconds_today": self.seconds_today,
            "streak": {"days": self.streak, "studied_today": self.studied_today},
            "retention": {name: value.to_dict() for name, value in self.retention.items()},
            "forecast": [day.to_dict() for day in self.forecast],
            "reviews_per_day": [day.to_dict() for day in self.calendar],
            "hardest": [card.to_dict() for card in self.hardest],
            "leeches": [card.to_dict() for card in self.leeches],
            "generators": [score.to_dict() for score in self.generators],
            **interview,
        }


# -- study days ---------------------------------------------------------------------------


class StudyDays(NamedTuple):
    """Consecutive study days: their local dates, and where each starts and ends (UTC ms)."""

    dates: tuple[date, ...]
    bounds: tuple[int, ...]  # one more than dates: day i is [bounds[i], bounds[i + 1])

    def rows(self) -> Iterator[tuple[int, int, int]]:
        for index in range(len(self.dates)):
            yield index, self.bounds[index], self.bounds[index + 1]


def day_starting(day: date, rollover_hour: int) -> datetime:
    """The UTC moment the study day `day` begins: its local rollover hour, DST-aware."""
    return rollover_moment(day, rollover_hour)


def study_days(first: date, count: int, rollover_hour: int) -> StudyDays:
    dates = tuple(first + timedelta(days=i) for i in range(count))
    bounds = tuple(
        to_ms(day_starting(first + timedelta(days=i), rollover_hour)) for i in range(count + 1)
    )
    return StudyDays(dates, bounds)


def study_date(now: datetime, rollover_hour: int) -> date:
    """The local date naming the study day that contains `now`."""
    return day_start(now, rollover_hour).astimezone().date()


# -- collecting ---------------------------------------------------------------------------


def collect(
    store: Store,
    cards: Sequence[Card] | KeySource,
    now: datetime,
    rollover_hour: int,
    deck_ids: Sequence[str] = (),
    renamed: Mapping[str, str] | None = None,
    hardest: int = HARDEST,
) -> Stats:
    """Every figure of `drill stats` for `cards`, as of `now`.

    Card figures (counts, forecast, hardest, leeches, generators) cover `cards`. Review
    figures (calendar, retention, streak, today) cover the reviews of the decks in
    `deck_ids`, or the whole review log when it is empty, cards since deleted included.
    `renamed` maps old card keys to current ones, so a renamed card's answers still count
    toward its generator.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    today = study_date(now, rollover_hour)
    reviews = _ReviewFilter(deck_ids)
    first = today - timedelta(days=CALENDAR_DAYS - 1)
    calendar_days = study_days(first, CALENDAR_DAYS, rollover_hour)
    forecast_days = study_days(today, FORECAST_DAYS, rollover_hour)
    db = store.db
    source = CardList(cards) if isinstance(cards, Sequence) else cards
    with _scratch(db, source, renamed or {}):
        db.execute("BEGIN")  # one read snapshot: a review recorded meanwhile shows nowhere
        try:
            per_day = _reviews_per_day(db, calendar_days, reviews)
            streak, studied_today = _streak(db, per_day, calendar_days, reviews, rollover_hour)
            seconds = _seconds(db, calendar_days.bounds[-2], calendar_days.bounds[-1], reviews)
            stats = Stats(
                now=now,
                today=today,
                cards=_card_counts(db),
                reviews_today=per_day[-1],
                seconds_today=seconds,
                streak=streak,
                studied_today=studied_today,
                retention=_retention(db, calendar_days, reviews),
                forecast=_forecast(db, forecast_days),
                calendar=tuple(map(DayCount, calendar_days.dates, per_day)),
                hardest=_troubles(db, "s.lapses > 0", hardest),
                leeches=_troubles(db, "s.leech = 1", None),
                generators=_generator_scores(db),
                decks=tuple(deck_ids),
            )
        finally:
            db.execute("COMMIT")
    return stats


class _ReviewFilter:
    """The SQL condition that keeps the reviews of some decks (all reviews if none).

    A card key is `deck/card` and "/" sorts just before "0", so one deck's keys are exactly
    the range [deck + "/", deck + "0"): an index-friendly test, no join.
    """

    def __init__(self, deck_ids: Sequence[str]) -> None:
        self.args: list[str] = []
        for deck_id in dict.fromkeys(deck_ids):
            self.args += [f"{deck_id}/", f"{deck_id}0"]

    def sql(self, table: str = "r") -> str:
        """`AND (…)` on the key column of `table`, or nothing when every deck counts."""
        ranges = [f"({table}.key >= ? AND {table}.key < ?)"] * (len(self.args) // 2)
        return f" AND ({' OR '.join(ranges)})" if ranges else ""


@contextmanager
def _scratch(db: sqlite3.Connection, source: KeySource, renamed: Mapping[str, str]):
    """The cards asked for as the view `selected` (drill.review.due), and temporary tables
    of renamed keys and of days, dropped afterwards (they never touch the file)."""
    source.attach(db)
    try:
        db.execute("CREATE TEMP TABLE stats_renamed (old_key TEXT PRIMARY KEY, new_key TEXT)")
        db.execute("CREATE TEMP TABLE stats_days (idx INTEGER PRIMARY KEY, start INT, end INT)")
        db.executemany("INSERT OR IGNORE INTO temp.stats_renamed VALUES (?, ?)", renamed.items())
        yield
    finally:
        for table in ("stats_renamed", "stats_days"):
            db.execute(f"DROP TABLE IF EXISTS temp.{table}")
        source.detach(db)


def _load_days(db: sqlite3.Connection, days: StudyDays, open_start: bool = False) -> None:
    db.execute("DELETE FROM temp.stats_days")
    rows = list(days.rows())
    if open_start:  # the first day also takes everything before it (overdue cards)
        rows[0] = (0, -(2**62), rows[0][2])
    db.executemany("INSERT INTO temp.stats_days (idx, start, end) VALUES (?, ?, ?)", rows)


# Undone reviews never count. They are few, so the figures over the log count every
# review in their ranges (SQLite counts an index range without reading its rows), then
# take away what the undone ones among them added: no review is checked one by one.
# CROSS JOIN keeps `undone` the outer loop; SQLite might otherwise read a range of the log
# and look each review up in `undone`.
_UNDONE = "undone u CROSS JOIN review_log r ON r.id = u.review_id"


def _undone_days(db: sqlite3.Connection, days: StudyDays, reviews: _ReviewFilter) -> Iterator[int]:
    """The day index of each undone review within `days`."""
    rows = db.execute(
        f"SELECT r.reviewed_at FROM {_UNDONE}"
        f" WHERE r.reviewed_at >= ? AND r.reviewed_at < ?{reviews.sql()}",
        [days.bounds[0], days.bounds[-1], *reviews.args],
    )
    for (at,) in rows:
        yield bisect_right(days.bounds, at) - 1


def _reviews_per_day(db: sqlite3.Connection, days: StudyDays, reviews: _ReviewFilter) -> list[int]:
    counts = [0] * len(days.dates)
    if reviews.args:
        # Some decks: their reviews, read once through the (key, reviewed_at) index, each
        # placed in its day. (A count per day would read the decks' reviews once a day.)
        rows = db.execute(
            "SELECT r.reviewed_at FROM review_log r INDEXED BY review_log_key"
            f" WHERE r.reviewed_at >= ? AND r.reviewed_at < ?{reviews.sql()}",
            [days.bounds[0], days.bounds[-1], *reviews.args],
        )
        for (at,) in rows:
            counts[bisect_right(days.bounds, at) - 1] += 1
    else:
        # One count of a range of the reviewed_at index per day.
        _load_days(db, days)
        rows = db.execute(
            "SELECT d.idx, (SELECT count(*) FROM review_log r"
            " WHERE r.reviewed_at >= d.start AND r.reviewed_at < d.end) FROM temp.stats_days d"
        )
        for index, count in rows:
            counts[index] = count
    for index in _undone_days(db, days, reviews):
        counts[index] -= 1
    return counts


def _streak(
    db: sqlite3.Connection,
    per_day: list[int],
    days: StudyDays,
    reviews: _ReviewFilter,
    rollover_hour: int,
) -> tuple[int, bool]:
    """Consecutive study days with a review, ending today — or yesterday, since a streak
    is not broken before today is over. Looks further back a year at a time if needed."""
    studied_today = per_day[-1] > 0
    counts = per_day if studied_today else per_day[:-1]
    streak = _trailing_run(counts)
    if streak < len(counts):
        return streak, studied_today
    first = days.dates[0]
    while True:
        first -= timedelta(days=CALENDAR_DAYS)
        run = _studied_run(db, study_days(first, CALENDAR_DAYS, rollover_hour), reviews)
        streak += run
        if run < CALENDAR_DAYS:
            return streak, studied_today


def _trailing_run(counts: Sequence[int]) -> int:
    run = 0
    for count in reversed(counts):
        if not count:
            break
        run += 1
    return run


def _studied_run(db: sqlite3.Connection, days: StudyDays, reviews: _ReviewFilter) -> int:
    """How many of the last of `days` have a review (not undone): the newest day without
    one is found by looking for one review a day, newest first, not by counting them."""
    _load_days(db, days)
    row = db.execute(
        "SELECT d.idx FROM temp.stats_days d WHERE NOT EXISTS (SELECT 1 FROM review_log r"
        " WHERE r.reviewed_at >= d.start AND r.reviewed_at < d.end"
        f" AND r.id NOT IN (SELECT review_id FROM undone){reviews.sql()})"
        " ORDER BY d.idx DESC LIMIT 1",
        reviews.args,
    ).fetchone()
    return len(days.dates) if row is None else len(days.dates) - 1 - row[0]


def _seconds(db: sqlite3.Connection, start: int, end: int, reviews: _ReviewFilter) -> float:
    (total,) = db.execute(
        "SELECT coalesce(sum(r.duration_ms), 0) FROM review_log r"
        " WHERE r.reviewed_at >= ? AND r.reviewed_at < ?"
        f" AND r.id NOT IN (SELECT review_id FROM undone){reviews.sql()}",
        [start, end, *reviews.args],
    ).fetchone()
    return total / 1000


def _retention(
    db: sqlite3.Connection, days: StudyDays, reviews: _ReviewFilter
) -> dict[str, Retention]:
    """True retention per window, from review_retention: a row per review of a card in the
    review state, keyed by (young, rating, reviewed_at) (see m008_stats_ranges).

    Each window is the sum of disjoint parts (today; the six days before; ...), and each
    part's reviews of each kind are one counted range of the key. A card's later reviews
    within the same study day, which do not count, come from the table's small index of
    quick repeats and are taken away, as are undone reviews.
    """
    end = len(days.dates)
    starts = [end - span for _, span in WINDOWS]  # each window's first day, nested
    ends = [end, *starts[:-1]]

    def part(day: int) -> int:
        """The smallest window holding the day, as the index of the part it falls in."""
        return next(k for k, start in enumerate(starts) if day >= start)

    tally = [[[0, 0], [0, 0]] for _ in WINDOWS]  # [part][young][passed]
    parts = ", ".join("(?, ?, ?)" for _ in WINDOWS)
    kinds = ", ".join(f"({young}, {int(rating)})" for young in (0, 1) for rating in Rating)
    part_rows = [
        value
        for k, (start, stop) in enumerate(zip(starts, ends, strict=True))
        for value in (k, days.bounds[start], days.bounds[stop])
    ]
    rows = db.execute(
        f"WITH part (idx, start, end) AS (VALUES {parts}), kind (young, rating) AS"
        f" (VALUES {kinds}) SELECT part.idx, kind.young, kind.rating,"
        " (SELECT count(*) FROM review_retention t WHERE t.young = kind.young"
        " AND t.rating = kind.rating AND t.reviewed_at >= part.start AND t.reviewed_at < part.end"
        f"{reviews.sql('t')}) FROM part, kind",
        [*part_rows, *reviews.args],
    )
    for k, young, rating, count in rows:
        tally[k][young][rating > Rating.AGAIN] += count
    for day, young, passed, count in _repeats(db, days, reviews):
        tally[part(day)][young][passed] -= count
    for day, young, passed in _undone_first_reviews(db, days, reviews):
        tally[part(day)][young][passed] -= 1
    result, window = {}, Retention()
    for (name, _), (mature, young) in zip(WINDOWS, tally, strict=True):
        window += Retention(PassRate(*reversed(young)), PassRate(*reversed(mature)))
        result[name] = window
    return result


def _repeats(
    db: sqlite3.Connection, days: StudyDays, reviews: _ReviewFilter
) -> list[tuple[int, int, int, int]]:
    """(day index, young, passed, count) of the reviews of a card that had already been
    reviewed earlier the same study day (undone ones included)."""
    _load_days(db, days)
    longest = max(b - a for a, b in pairwise(days.bounds))
    # Such a review came within a day of the previous one, so the index of quick repeats
    # holds it; were a day ever longer than that index reaches, every review is looked at.
    quick = f" AND {REPEAT_TEST}" if longest <= REPEAT_MS else ""
    return db.execute(
        "SELECT d.idx, t.young, t.rating > 1, count(*) FROM temp.stats_days d"
        f" JOIN review_retention t ON t.reviewed_at >= d.start AND t.reviewed_at < d.end{quick}"
        f" WHERE t.last_review >= d.start{reviews.sql('t')} GROUP BY 1, 2, 3",
        reviews.args,
    ).fetchall()


def _undone_first_reviews(
    db: sqlite3.Connection, days: StudyDays, reviews: _ReviewFilter
) -> Iterator[tuple[int, int, int]]:
    """(day index, young, passed) of each undone review that retention would otherwise
    count: a review-state card's first review of its study day."""
    rows = db.execute(
        "SELECT t.reviewed_at, t.young, t.rating > 1, t.last_review FROM"
        f" {_UNDONE} CROSS JOIN review_retention t ON t.young IN (0, 1) AND t.rating = r.rating"
        " AND t.reviewed_at = r.reviewed_at AND t.review_id = r.id"
        f" WHERE r.reviewed_at >= ? AND r.reviewed_at < ?{reviews.sql('t')}",
        [days.bounds[0], days.bounds[-1], *reviews.args],
    )
    for at, young, passed, last_review in rows:
        day = bisect_right(days.bounds, at) - 1
        if (last_review or 0) < days.bounds[day]:
            yield day, young, passed


def _card_counts(db: sqlite3.Connection) -> CardCounts:
    rows = db.execute(
        "SELECT coalesce(s.state, 0), coalesce(s.suspended, 0), count(*), sum(coalesce(s.leech, 0))"
        " FROM temp.selected c LEFT JOIN card_state s ON s.key = c.key GROUP BY 1, 2"
    )
    by_state = dict.fromkeys(CardState, 0)
    suspended = leeches = 0
    for state, is_suspended, count, leech in rows:
        leeches += leech
        if is_suspended:
            suspended += count
        else:
            by_state[CardState(state)] += count
    return CardCounts(
        new=by_state[CardState.NEW],
        learning=by_state[CardState.LEARNING],
        review=by_state[CardState.REVIEW],
        relearning=by_state[CardState.RELEARNING],
        suspended=suspended,
        leeches=leeches,
    )


_SCHEDULED = ", ".join(str(int(state)) for state in CardState if state is not CardState.NEW)


def _forecast(db: sqlite3.Connection, days: StudyDays) -> tuple[DayCount, ...]:
    """Scheduled cards (not suspended) by the study day they fall due; overdue ones today.
    Each day is a range of the due index per state, counted where the card is selected."""
    _load_days(db, days, open_start=True)
    rows = db.execute(
        "SELECT d.idx, (SELECT count(*) FROM card_state s JOIN temp.selected c ON c.key = s.key"
        f" WHERE s.state IN ({_SCHEDULED}) AND s.due >= d.start AND s.due < d.end"
        " AND s.suspended = 0) FROM temp.stats_days d"
    )
    counts = [0] * len(days.dates)
    for index, count in rows:
        counts[index] = count
    return tuple(map(DayCount, days.dates, counts))


def _troubles(db: sqlite3.Connection, where: str, limit: int | None) -> tuple[CardTrouble, ...]:
    rows = db.execute(
        "SELECT s.key, s.lapses, s.reps, s.state, s.suspended, s.leech"
        " FROM card_state s JOIN temp.selected c ON c.key = s.key"
        f" WHERE {where} ORDER BY s.lapses DESC, s.key LIMIT ?",
        (-1 if limit is None else limit,),
    )
    return tuple(
        CardTrouble(key, lapses, reps, CardState(state), bool(suspended), bool(leech))
        for key, lapses, reps, state, suspended, leech in rows
    )


def _generator_scores(db: sqlite3.Connection) -> tuple[GeneratorScore, ...]:
    """Typed answers graded right or wrong, by the generator of the card's exercise.

    The graded answers are counted per key from their partial index (undone ones taken
    away), and each key that has any is then matched with its card's generator: the
    selected card of that key, or of the key it was renamed to.
    """
    rows = db.execute(
        "WITH graded (key, attempts, correct) AS ("
        " SELECT key, count(*), sum(correct) FROM review_log WHERE correct IS NOT NULL"
        " GROUP BY key"
        f" UNION ALL SELECT r.key, -count(*), -sum(r.correct) FROM {_UNDONE}"
        " WHERE r.correct IS NOT NULL GROUP BY r.key),"
        " scored (generator, attempts, correct) AS MATERIALIZED (SELECT coalesce("
        "(SELECT k.generator FROM temp.selected k"
        " WHERE k.key = g.key AND k.generator IS NOT NULL),"
        " (SELECT k.generator FROM temp.stats_renamed n JOIN temp.selected k"
        " ON k.key = n.new_key WHERE n.old_key = g.key AND k.generator IS NOT NULL)),"
        " g.attempts, g.correct FROM graded g)"
        " SELECT generator, sum(attempts), sum(correct) FROM scored"
        " WHERE generator IS NOT NULL GROUP BY generator HAVING sum(attempts) > 0"
        " ORDER BY generator"
    )
    return tuple(GeneratorScore(name, attempts, correct) for name, attempts, correct in rows)
