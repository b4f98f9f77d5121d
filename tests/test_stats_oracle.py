"""`drill stats` against a plain count: random review logs, every review figure recounted
in Python from the log's rows, one review at a time.

The figures are counted in SQL over index ranges, and undone reviews and a card's repeats
within a study day are taken away afterwards (drill.review.stats). This test reads the log
itself instead (each row's `previous` snapshot, the `undone` table), places each review in
its study day with drill.review.queue.day_start, and counts. The logs mix what those
subtractions must get right: repeats within a day and across the rollover hour, undone
reviews (some a day's only review), cards whose previous interval is unknown, decks whose
ids share a prefix, daylight saving time, and a streak older than a year.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from drill.model import Card, CardState, CardType, Rating
from drill.review.queue import day_start
from drill.review.stats import WINDOWS, PassRate, Retention, collect, study_date
from drill.review.store import CardRecord, Review, Store, from_ms

NOW = datetime(2026, 3, 30, 13, 0, tzinfo=UTC)  # the day after Berlin's clocks go forward
YOUNG = timedelta(days=21)
DECKS = ("a", "ab", "b")  # "ab" shares a prefix with "a": a filter on "a" must not take it
GENERATORS = ("conv-output-size", "param-count")


def make_cards(rng: random.Random) -> list[Card]:
    cards = []
    for deck in DECKS:
        for i in range(8):
            if rng.random() < 0.3:
                generator = rng.choice(GENERATORS)
                cards.append(Card(deck, f"x{i}", type=CardType.COMPUTE, generator=generator))
            else:
                cards.append(Card(deck, f"c{i}", q="q", a="a"))
    return cards


def write_history(store: Store, cards: list[Card], rng: random.Random) -> None:
    """Each card's reviews in time order, over the last 14 months; some undone at once."""
    for card in cards:
        when = NOW - timedelta(days=rng.uniform(30, 420))
        while when < NOW:
            before = store.card(card.key) or CardRecord(card.key)
            rating = Rating(rng.choices(range(1, 5), weights=(2, 1, 6, 1))[0])
            lapsed = before.state is CardState.REVIEW and rating is Rating.AGAIN
            state = CardState.RELEARNING if lapsed else CardState.REVIEW
            interval = timedelta(minutes=10) if lapsed else timedelta(days=rng.uniform(0.2, 60))
            after = CardRecord(
                card.key,
                state,
                due=None if rng.random() < 0.05 else when + interval,  # interval unknown
                last_review=None if rng.random() < 0.05 else when,
                reps=before.reps + 1,
                lapses=before.lapses + lapsed,
            )
            graded = rng.choice((True, False)) if card.generator else None
            review = Review(
                card.key,
                when,
                rating,
                before.state,
                state,
                when + interval,
                duration_ms=rng.randrange(500, 60_000),
                correct=graded,
            )
            review_id = store.record(review, after)
            if rng.random() < 0.12:
                store.undo(review_id, when)
            # often again within hours (a repeat the same study day, or just past the
            # rollover), otherwise days later
            hours = rng.uniform(0.1, 8) if rng.random() < 0.35 else rng.uniform(20, 24 * 40)
            when += timedelta(hours=hours)


def recount(store: Store, cards, deck_ids, rollover: int, renamed: dict[str, str]) -> dict:
    """The review figures of collect(), counted one review at a time."""
    undone = {row[0] for row in store.db.execute("SELECT review_id FROM undone")}
    rows = store.db.execute(
        "SELECT id, key, reviewed_at, rating, state_before, duration_ms, correct, previous"
        " FROM review_log"
    ).fetchall()
    today = study_date(NOW, rollover)
    first_day = today - timedelta(days=364)
    per_day: Counter = Counter()
    milliseconds = 0
    windows = {name: [[0, 0], [0, 0]] for name, _ in WINDOWS}  # [young][passed]
    generator_of = {card.key: card.generator for card in cards if card.generator}
    for old, new in renamed.items():
        generator_of.setdefault(old, generator_of.get(new))
    scores: dict[str, list[int]] = {}
    for review_id, key, at_ms, rating, state_before, duration, correct, previous in rows:
        if review_id in undone:
            continue
        if correct is not None and generator_of.get(key):
            score = scores.setdefault(generator_of[key], [0, 0])
            score[0] += 1
            score[1] += correct
        deck = key.split("/")[0]
        if deck_ids and deck not in deck_ids:
            continue
        at = from_ms(at_ms)
        starts = day_start(at, rollover)
        day = study_date(at, rollover)
        per_day[day] += 1
        if day == today:
            milliseconds += duration or 0
        if state_before != CardState.REVIEW or day < first_day:
            continue
        before = json.loads(previous)
        last, due = before["last_review"], before["due"]
        if last is not None and from_ms(last) >= starts:
            continue  # not the card's first review of this study day
        young = last is None or due is None or from_ms(due) - from_ms(last) < YOUNG
        for name, span in WINDOWS:
            if (today - day).days < span:
                windows[name][young][rating > Rating.AGAIN] += 1
    streak_end = today if per_day[today] else today - timedelta(days=1)
    streak = 0
    while per_day[streak_end - timedelta(days=streak)]:
        streak += 1
    return {
        "calendar": [per_day[first_day + timedelta(days=i)] for i in range(365)],
        "reviews_today": per_day[today],
        "seconds_today": milliseconds / 1000,
        "streak": streak,
        "retention": {
            name: Retention(
                young=PassRate(young[1], young[0]), mature=PassRate(mature[1], mature[0])
            )
            for name, (mature, young) in windows.items()
        },
        "generators": sorted((name, a, c) for name, (a, c) in scores.items() if a),
    }


def figures(stats) -> dict:
    return {
        "calendar": [day.count for day in stats.calendar],
        "reviews_today": stats.reviews_today,
        "seconds_today": stats.seconds_today,
        "streak": stats.streak,
        "retention": dict(stats.retention),
        "generators": [(g.generator, g.attempts, g.correct) for g in stats.generators],
    }


@pytest.mark.parametrize(
    ("seed", "zone", "rollover", "deck_ids"),
    [
        (1, "UTC", 4, ()),
        (2, "Europe/Berlin", 4, ()),
        (3, "Europe/Berlin", 0, ("a",)),
        (4, "America/New_York", 23, ("ab", "b")),
        (5, "Asia/Kolkata", 4, ("b",)),
    ],
)
def test_review_figures_match_a_count_of_the_log(store, local_tz, seed, zone, rollover, deck_ids):
    local_tz(zone)
    rng = random.Random(seed)
    cards = make_cards(rng)
    write_history(store, cards, rng)
    # a renamed card: answers logged under its old key count toward its generator
    renamed_card = next(card for card in cards if card.generator)
    old_key = f"{renamed_card.deck_id}/gone"
    renamed = {old_key: renamed_card.key}
    when = NOW - timedelta(days=3)
    answer = Review(old_key, when, Rating.GOOD, CardState.NEW, CardState.LEARNING, when, 900)
    store.record(replace(answer, correct=False), CardRecord(old_key, CardState.LEARNING))
    expected = recount(store, cards, deck_ids, rollover, renamed)
    stats = collect(store, cards, NOW, rollover, deck_ids, renamed)
    assert figures(stats) == expected
    assert sum(expected["calendar"]) > 100  # the log is not trivially empty
    assert store.db.execute("SELECT count(*) FROM undone").fetchone()[0] > 5


@pytest.mark.parametrize("gap", [None, 500], ids=["unbroken", "an undone day"])
def test_a_streak_older_than_a_year(store, local_tz, gap):
    """800 days of reviews; with `gap`, that day's only review was undone: the streak
    stops there, though the log has a row on that day."""
    local_tz("Europe/Berlin")
    history = []
    for back in range(800):
        when = NOW - timedelta(days=back, hours=2)
        review = Review(f"a/c{back}", when, Rating.GOOD, CardState.NEW, CardState.LEARNING, when)
        history.append((review, CardRecord(review.key, CardState.LEARNING)))
    store.record_many(reversed(history))
    if gap is not None:
        (review_id,) = store.db.execute(
            "SELECT id FROM review_log WHERE key = ?", (f"a/c{gap}",)
        ).fetchone()
        store.undo(review_id, NOW)
    stats = collect(store, [], NOW, 4)
    assert stats.streak == (800 if gap is None else gap)
    assert stats.streak == recount(store, [], (), 4, {})["streak"]
