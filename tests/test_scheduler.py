"""Scheduling: golden FSRS trajectories with an injected clock, day rollover, the queue."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

import pytest
from queue_support import build_queue, count_due

from drill.home.config import Config
from drill.model import Card, CardState, Rating
from drill.review.queue import day_end, day_start, interleave
from drill.review.scheduler import Scheduler, format_interval
from drill.review.store import CardRecord

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NO_FUZZ = Config(fuzz=False)


def trajectory(grades: list[Rating], config: Config = NO_FUZZ) -> list[tuple[str, float]]:
    """Review a new card with `grades`, each exactly when due; return (state, days) pairs."""
    scheduler = Scheduler(config)
    record, now, out = CardRecord("d/c"), T0, []
    for grade in grades:
        record = scheduler.review(record, grade, now)
        days = (record.due - now).total_seconds() / 86400
        out.append((record.state.name, round(days, 4)))
        now = record.due
    return out


def test_golden_all_good() -> None:
    assert trajectory([Rating.GOOD] * 5) == [
        ("LEARNING", round(10 / 1440, 4)),
        ("REVIEW", 2.0),
        ("REVIEW", 11.0),
        ("REVIEW", 46.0),
        ("REVIEW", 163.0),
    ]


def test_golden_lapse_and_relearn() -> None:
    grades = [Rating.GOOD, Rating.GOOD, Rating.AGAIN, Rating.GOOD, Rating.GOOD]
    states = [state for state, _ in trajectory(grades)]
    assert states == ["LEARNING", "REVIEW", "RELEARNING", "REVIEW", "REVIEW"]
    days = [d for _, d in trajectory(grades)]
    assert days[2] == round(10 / 1440, 4)  # the relearning step
    assert days[3] < days[1] * 2  # a lapse shortens what follows


def test_easy_skips_learning() -> None:
    state, days = trajectory([Rating.EASY])[0]
    assert state == "REVIEW" and days >= 1


def test_lapses_and_reps_are_counted() -> None:
    scheduler = Scheduler(NO_FUZZ)
    record = CardRecord("d/c")
    for grade in (Rating.GOOD, Rating.GOOD, Rating.AGAIN):
        record = scheduler.review(record, grade, record.due or T0)
    assert (record.reps, record.lapses) == (3, 1)


def test_fuzz_is_repeatable_and_matches_preview() -> None:
    scheduler = Scheduler(Config(fuzz=True))
    record = CardRecord("d/c", CardState.REVIEW, None, 30.0, 5.0, T0, T0 - timedelta(days=30), 4)
    preview = scheduler.outcomes(record, T0)
    assert scheduler.review(record, Rating.GOOD, T0) == preview[Rating.GOOD]


def test_naive_datetime_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Scheduler(NO_FUZZ).review(CardRecord("d/c"), Rating.GOOD, datetime(2026, 1, 1))


@pytest.fixture
def utc_local_time(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("utc_local_time")
def test_day_rolls_over_at_the_configured_hour() -> None:
    late = datetime(2026, 3, 2, 3, 59, tzinfo=UTC)
    assert day_start(late, 4) == datetime(2026, 3, 1, 4, tzinfo=UTC)
    assert day_start(late.replace(hour=4, minute=0), 4) == datetime(2026, 3, 2, 4, tzinfo=UTC)
    assert day_end(late, 4) == datetime(2026, 3, 2, 4, tzinfo=UTC)


@pytest.mark.skipif(not hasattr(time, "tzset"), reason="needs time.tzset")
def test_day_start_follows_local_time_with_dst(monkeypatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        # Clocks spring forward at 02:00 on 2026-03-08, so the day before lasts 23 hours.
        midnight = datetime(2026, 3, 8, 5, tzinfo=UTC)  # 00:00 EST, before the rollover
        assert day_start(midnight, 4) == datetime(2026, 3, 7, 9, tzinfo=UTC)  # 04:00 EST
        assert day_end(midnight, 4) == datetime(2026, 3, 8, 8, tzinfo=UTC)  # 04:00 EDT
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert os.environ.get("TZ") is None


def cards(n: int, deck: str = "d") -> list[Card]:
    return [Card(deck, f"c{i}", q="q", a="a") for i in range(n)]


def review_record(key: str, due: datetime) -> CardRecord:
    return CardRecord(key, CardState.REVIEW, None, 10.0, 5.0, due, due - timedelta(days=10), 3)


@pytest.mark.usefixtures("utc_local_time")
def test_queue_orders_overdue_first_and_respects_limits() -> None:
    deck = cards(6)
    records = {
        "d/c0": review_record("d/c0", T0 - timedelta(days=1)),
        "d/c1": review_record("d/c1", T0 - timedelta(days=5)),
        "d/c2": review_record("d/c2", T0 + timedelta(days=3)),  # not due today
    }
    config = Config(new_per_day=2, reviews_per_day=10)
    queue = [c.id for c in build_queue(deck, records, T0, config)]
    assert queue == ["c1", "c3", "c0", "c4"]  # most overdue first, new cards spread
    assert [c.id for c in build_queue(deck, records, T0, config, done_today=(2, 9))] == ["c1"]
    assert len(build_queue(deck, records, T0, config, new_limit=0)) == 2


@pytest.mark.usefixtures("utc_local_time")
def test_review_due_later_today_counts_as_due() -> None:
    later = T0 + timedelta(hours=5)  # same study day (before 04:00 tomorrow)
    records = {"d/c0": review_record("d/c0", later)}
    counts = count_due(cards(1), records, T0, NO_FUZZ)
    assert (counts.review, counts.new) == (1, 0)


def test_suspended_cards_are_never_due() -> None:
    records = {"d/c0": CardRecord("d/c0", suspended=True)}
    assert build_queue(cards(1), records, T0, NO_FUZZ) == []
    assert count_due(cards(1), records, T0, NO_FUZZ).total == 0


def test_learning_counts_and_next_due() -> None:
    ahead = T0 + timedelta(minutes=NO_FUZZ.learn_ahead_minutes)  # shown now by a session
    later = ahead + timedelta(minutes=1)
    records = {
        "d/c0": CardRecord("d/c0", CardState.LEARNING, 1, 1.0, 5.0, T0 - timedelta(minutes=1)),
        "d/c1": CardRecord("d/c1", CardState.LEARNING, 1, 1.0, 5.0, ahead),
        "d/c2": CardRecord("d/c2", CardState.LEARNING, 1, 1.0, 5.0, later),
    }
    counts = count_due(cards(3), records, T0, NO_FUZZ)
    assert (counts.learning, counts.later_today, counts.next_due) == (2, 1, later)


def test_interleave_spreads_new_cards() -> None:
    reviews, new = cards(4, "r"), cards(2, "n")
    order = [c.deck_id for c in interleave(reviews, new)]
    assert order == ["r", "r", "n", "r", "r", "n"]
    assert interleave([], new) == new


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(30, "<1m"), (600, "10m"), (7200, "2h"), (86400 * 3, "3d"), (86400 * 45, "1.5mo")],
)
def test_format_interval(seconds: int, text: str) -> None:
    assert format_interval(timedelta(seconds=seconds)) == text
