"""`drill stats`: figures on a synthetic review log, every one worked out by hand.

The local time zone is pinned (TZ) so study days are known: with UTC and the default
rollover hour (4), the study day "March 8" runs from March 8 04:00 to March 9 04:00 UTC.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from rich.console import Console
from typer.testing import CliRunner

from drill.cli import app
from drill.model import Card, CardState, CardType, Rating
from drill.review.stats import CardTrouble, DayCount, PassRate, Retention, collect
from drill.review.store import CardRecord, Review, Store
from drill.ui.stats_view import calendar_heatmap, forecast_chart, render_stats

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
ROLLOVER = 4
R, L, RL = CardState.REVIEW, CardState.LEARNING, CardState.RELEARNING


def at(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


class Log:
    """Writes reviews through the store as a session would: the card's state before,
    the review row, the state after (due date and lapses set by the test)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def review(
        self,
        key: str,
        when: datetime,
        rating: Rating,
        state: CardState,
        due: datetime,
        *,
        lapses: int | None = None,
        **extra,
    ) -> int:
        before = self.store.card(key) or CardRecord(key=key)
        lapsed = before.state is R and rating is Rating.AGAIN
        after = replace(
            before,
            state=state,
            due=due,
            last_review=when,
            stability=2.0,
            difficulty=5.0,
            reps=before.reps + 1,
            lapses=before.lapses + lapsed if lapses is None else lapses,
        )
        review = Review(key, when, rating, before.state, state, due, duration_ms=1500, **extra)
        return self.store.record(review, after)


G, A, H = Rating.GOOD, Rating.AGAIN, Rating.HARD


def build_history(store: Store, deck: str = "mine") -> None:
    """The scenario every figure below is worked out from (deck `mine`, cards a to m)."""
    log = Log(store)

    def k(card: str) -> str:
        return f"{deck}/{card}"

    # a: mature pass on Feb 1 (interval 30 d); young fail today (interval 5 d), relearned.
    log.review(k("a"), at(1, 1, 10), G, R, at(1, 31, 10))
    log.review(k("a"), at(2, 1, 10), G, R, at(2, 6, 10))
    log.review(k("a"), at(3, 10, 9), A, RL, at(3, 10, 9, 10))
    log.review(k("a"), at(3, 10, 9, 10), G, R, at(3, 11, 9, 10))
    # b: young pass on Mar 8; failed again that same study day: not its first review.
    log.review(k("b"), at(3, 5, 10), G, R, at(3, 8, 10))
    log.review(k("b"), at(3, 8, 10), G, R, at(3, 8, 22))
    log.review(k("b"), at(3, 8, 23), A, RL, at(3, 8, 23, 10))
    # c: reviewed Mar 9 at 03:30, before the rollover: study day Mar 8, young pass.
    log.review(k("c"), at(3, 7, 10), G, R, at(3, 9, 3))
    log.review(k("c"), at(3, 9, 3, 30), G, R, at(3, 13, 3, 30))
    # d: today's review is undone: it counts nowhere and d is due today again.
    log.review(k("d"), at(3, 9, 10), G, R, at(3, 10, 10))
    undone = log.review(k("d"), at(3, 10, 10), G, R, at(3, 20, 10))
    store.undo(undone, at(3, 10, 10, 1))
    # e: mature fail on Mar 4 (interval 30 d), next due beyond the forecast.
    log.review(k("e"), at(2, 1, 10), G, R, at(3, 3, 10))
    log.review(k("e"), at(3, 4, 10), A, RL, at(3, 4, 10, 10))
    log.review(k("e"), at(3, 4, 10, 10), G, R, at(4, 13, 10, 10))
    # f: young pass (Hard) on Feb 25: in the 30-day window, not the 7-day one.
    log.review(k("f"), at(2, 15, 10), G, R, at(2, 25, 10))
    log.review(k("f"), at(2, 25, 10), H, R, at(4, 6, 10))
    # g: a mature pass more than a year ago; suspended since.
    log.review(k("g"), at(1, 1, 10, year=2025), G, R, at(3, 1, 10, year=2025))
    log.review(k("g"), at(3, 1, 10, year=2025), G, R, at(6, 9, 10, year=2025))
    store.set_suspended([k("g")], True)
    # h: first seen Mar 7 at 03:00, study day Mar 6; its learning step is overdue.
    log.review(k("h"), at(3, 7, 3), G, L, at(3, 7, 3, 10))
    # l and m: leeches, one suspended, one only tagged.
    log.review(k("l"), at(1, 5, 10, year=2025), G, R, at(6, 1, 10), lapses=8)
    store.set_leech(k("l"), True, suspend=True)
    log.review(k("m"), at(1, 5, 11, year=2025), G, R, at(6, 1, 10), lapses=9)
    store.set_leech(k("m"), True, suspend=False)
    # i has never been reviewed: it is new.


def deck_cards(deck: str = "mine") -> list[Card]:
    return [Card(deck, name, q="q", a="a") for name in "abcdefghilm"]


def test_retention_per_window(store, local_tz) -> None:
    build_history(store)
    stats = collect(store, deck_cards(), NOW, ROLLOVER)
    assert stats.retention == {
        "today": Retention(young=PassRate(0, 1)),
        "week": Retention(young=PassRate(2, 1), mature=PassRate(0, 1)),
        "month": Retention(young=PassRate(3, 1), mature=PassRate(0, 1)),
        "year": Retention(young=PassRate(3, 1), mature=PassRate(1, 1)),
    }
    assert stats.retention["month"].total.rate == 3 / 5


def test_today_streak_and_calendar(store, local_tz) -> None:
    build_history(store)
    stats = collect(store, deck_cards(), NOW, ROLLOVER)
    assert stats.today == date(2026, 3, 10)
    assert (stats.reviews_today, stats.seconds_today) == (2, 3.0)
    # Mar 4 to Mar 10 all have a review (Mar 6 only thanks to the rollover); Mar 3 none.
    assert (stats.streak, stats.studied_today) == (7, True)
    assert len(stats.calendar) == 365
    assert stats.calendar[0].day == date(2025, 3, 11)
    assert stats.calendar[-1] == DayCount(date(2026, 3, 10), 2)
    busy = {day.day.isoformat(): day.count for day in stats.calendar if day.count}
    assert busy == {
        "2026-01-01": 1,
        "2026-02-01": 2,
        "2026-02-15": 1,
        "2026-02-25": 1,
        "2026-03-04": 2,
        "2026-03-05": 1,
        "2026-03-06": 1,
        "2026-03-07": 1,
        "2026-03-08": 3,
        "2026-03-09": 1,
        "2026-03-10": 2,
    }


def test_forecast_counts_and_leeches(store, local_tz) -> None:
    build_history(store)
    stats = collect(store, deck_cards(), NOW, ROLLOVER)
    assert len(stats.forecast) == 30
    assert stats.forecast[27] == DayCount(date(2026, 4, 6), 1)
    due = {i: day.count for i, day in enumerate(stats.forecast) if day.count}
    # today: b (overdue relearning), d (due again after the undo), h (overdue step);
    # tomorrow: a; Mar 12: c (due Mar 13 03:30, before that day's rollover); Apr 6: f.
    assert due == {0: 3, 1: 1, 2: 1, 27: 1}
    assert stats.cards.to_dict() == {
        "total": 11,
        "new": 1,
        "learning": 1,
        "review": 6,
        "relearning": 1,
        "suspended": 2,
        "leeches": 2,
    }
    assert [(c.key, c.lapses) for c in stats.hardest] == [
        ("mine/m", 9),
        ("mine/l", 8),
        ("mine/a", 1),
        ("mine/b", 1),
        ("mine/e", 1),
    ]
    assert [(c.key, c.suspended, c.leech) for c in stats.leeches] == [
        ("mine/m", False, True),
        ("mine/l", True, True),
    ]


def test_streak_holds_until_today_ends_and_spans_years(store, local_tz) -> None:
    log = Log(store)
    # one review a day for 400 days, the last one yesterday
    for back in range(1, 401):
        when = NOW - timedelta(days=back)
        log.review(f"mine/c{back}", when, G, L, when + timedelta(minutes=10))
    stats = collect(store, deck_cards(), NOW, ROLLOVER)
    assert (stats.streak, stats.studied_today, stats.reviews_today) == (400, False, 0)
    assert sum(day.count for day in stats.calendar) == 364


def test_study_days_follow_daylight_saving_time(store, local_tz) -> None:
    local_tz("Europe/Berlin")  # clocks go forward on 2026-03-29 at 02:00
    log = Log(store)
    # 01:30 UTC is 03:30 summer time: before the 04:00 rollover, so still March 28.
    log.review("mine/a", at(3, 29, 1, 30), G, L, at(3, 29, 1, 40))
    # 02:30 UTC is 04:30 summer time: March 29. A fixed +1 h offset would say March 28.
    log.review("mine/b", at(3, 29, 2, 30), G, L, at(3, 29, 2, 40))
    stats = collect(store, deck_cards(), at(3, 29, 12), ROLLOVER)
    assert [(d.day.isoformat(), d.count) for d in stats.calendar[-2:]] == [
        ("2026-03-28", 1),
        ("2026-03-29", 1),
    ]
    assert stats.streak == 2


def test_generator_accuracy_follows_renames_and_skips_undone(store, local_tz) -> None:
    log = Log(store)
    x = Card("mine", "x", type=CardType.COMPUTE, generator="conv-output-size", was=("x-old",))
    y = Card("mine", "y", type=CardType.COMPUTE, generator="param-count")
    when = at(3, 1, 10)
    for key, correct in (("mine/x-old", False), ("mine/x", True), ("mine/x", False)):
        log.review(key, when, G, L, when, seed=7, answer="3", correct=correct)
        when += timedelta(hours=1)
    undone = log.review("mine/x", when, G, L, when, seed=8, answer="4", correct=True)
    store.undo(undone, when)
    log.review("mine/y", when, G, L, when, seed=9, answer="10", correct=True)
    log.review("mine/a", when, G, L, when)  # a basic card: no verdict
    stats = collect(store, [x, y, *deck_cards()], NOW, ROLLOVER, renamed={"mine/x-old": "mine/x"})
    assert [(g.generator, g.correct, g.attempts) for g in stats.generators] == [
        ("conv-output-size", 1, 3),
        ("param-count", 1, 1),
    ]


def test_deck_filter_keeps_only_that_decks_reviews(store, local_tz) -> None:
    build_history(store, "mine")
    build_history(store, "mine2")  # shares the prefix "mine": must not leak in
    build_history(store, "min")
    mine = collect(store, deck_cards("mine"), NOW, ROLLOVER, deck_ids=["mine"])
    alone = collect(store, deck_cards("mine"), NOW, ROLLOVER)
    assert mine.retention["year"] == Retention(young=PassRate(3, 1), mature=PassRate(1, 1))
    assert mine.reviews_today == 2
    assert sum(d.count for d in mine.calendar) == 16
    assert alone.retention["year"] == Retention(young=PassRate(9, 3), mature=PassRate(3, 3))
    assert alone.reviews_today == 6


def test_naive_now_is_refused(store) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        collect(store, [], datetime(2026, 3, 10), ROLLOVER)


@pytest.mark.parametrize(
    "stop_before", ["m003_retention_log", "m004_stats_by_deck", "m008_stats_ranges"]
)
def test_an_older_database_is_upgraded_with_its_retention_rows(
    tmp_path, local_tz, stop_before
) -> None:
    """A log written before the stats migrations (or before the last one) gets its
    retention rows when the store opens it."""
    from drill.review import store as store_module

    path = tmp_path / "old.db"
    steps = store_module.MIGRATIONS
    store_module.MIGRATIONS = steps[: [m.__name__ for m in steps].index(stop_before)]
    try:
        with Store(path) as old:
            build_history(old)
    finally:
        store_module.MIGRATIONS = steps
    with Store(path) as upgraded:
        stats = collect(upgraded, deck_cards(), NOW, ROLLOVER, deck_ids=["mine"])
    assert stats.retention["year"] == Retention(young=PassRate(3, 1), mature=PassRate(1, 1))


# -- the command -------------------------------------------------------------------------

DECK = textwrap.dedent(
    """\
    id: mine
    title: Mine
    cards:
    """
) + "".join(
    f"  - id: {name}\n    q: Question {name}?\n    a: Answer {name}.\n" for name in "abcdefghilm"
)


@pytest.fixture
def cli(tmp_path, monkeypatch, local_tz):
    """The `mine` deck on disk, the scenario in the user's database, and the clock at NOW."""
    folder = tmp_path / "decks"
    folder.mkdir()
    (folder / "mine.yaml").write_text(DECK, encoding="utf-8")
    monkeypatch.setenv("DRILL_DECKS", str(folder))
    monkeypatch.setattr("drill.review.queue.utc_now", lambda: NOW)
    with Store.open() as store:
        build_history(store)


@pytest.mark.usefixtures("cli")
def test_stats_json_on_the_synthetic_log() -> None:
    result = CliRunner().invoke(app, ["stats", "mine", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["now"] == "2026-03-10T12:00:00+00:00"
    assert data["decks"] == ["mine"]
    assert data["cards"] == {
        "total": 11,
        "new": 1,
        "learning": 1,
        "review": 6,
        "relearning": 1,
        "suspended": 2,
        "leeches": 2,
    }
    assert (data["reviews_today"], data["streak"]) == (2, {"days": 7, "studied_today": True})
    retention = {
        window: (values["young"]["passed"], values["young"]["failed"],
                 values["mature"]["passed"], values["mature"]["failed"])
        for window, values in data["retention"].items()
    }  # fmt: skip
    assert retention == {
        "today": (0, 1, 0, 0),
        "week": (2, 1, 0, 1),
        "month": (3, 1, 0, 1),
        "year": (3, 1, 1, 1),
    }
    assert data["retention"]["year"]["total"] == {"passed": 4, "failed": 2, "rate": 4 / 6}
    assert data["retention"]["today"]["mature"]["rate"] is None
    forecast = [day["count"] for day in data["forecast"]]
    assert forecast == [3, 1, 1] + [0] * 24 + [1, 0, 0]
    assert data["forecast"][0]["date"] == "2026-03-10"
    assert len(data["reviews_per_day"]) == 365
    assert data["reviews_per_day"][-3:] == [
        {"date": "2026-03-08", "count": 3},
        {"date": "2026-03-09", "count": 1},
        {"date": "2026-03-10", "count": 2},
    ]
    assert [card["key"] for card in data["leeches"]] == ["mine/m", "mine/l"]
    assert data["leeches"][1] == {
        "key": "mine/l",
        "lapses": 8,
        "reviews": 1,
        "state": "review",
        "suspended": True,
        "leech": True,
    }
    assert data["generators"] == []


@pytest.mark.usefixtures("cli")
def test_stats_tables_name_the_leeches() -> None:
    result = CliRunner().invoke(app, ["stats", "mine"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Today (Tue 10 Mar): 2 reviews in 3s   Streak: 7 days" in out
    assert "Leeches" in out
    assert "mine/l" in out and "review (suspended, leech)" in out
    assert "75.0% (3/4)" in out  # young retention over 30 days
    assert "Due in the next 30 days: 6" in out


def test_stats_unknown_deck_is_one_clean_error() -> None:
    result = CliRunner().invoke(app, ["stats", "no-such-deck"])
    assert result.exit_code == 1
    assert "Error: no deck 'no-such-deck'" in result.output


# -- drawing -----------------------------------------------------------------------------


def test_forecast_chart_scales_bars_to_the_busiest_day() -> None:
    days = [DayCount(date(2026, 3, 10) + timedelta(days=i), n) for i, n in enumerate([8, 0, 1])]
    chart = forecast_chart(days, height=2).plain.splitlines()
    assert chart == [
        "8 │█     ",
        "0 │█   ▂ ",
        "   today",
    ]


def test_calendar_heatmap_puts_weeks_in_columns() -> None:
    start = date(2026, 2, 23)  # a Monday
    days = [DayCount(start + timedelta(days=i), n) for i, n in enumerate([0, 1, 2, 3, 4, 0, 0, 4])]
    lines = calendar_heatmap(days, color=False).plain.splitlines()
    assert lines[0].strip() == "Mar"
    assert lines[1:] == [
        "Mon ·█",
        "    ░ ",
        "Wed ▒ ",
        "    ▓ ",
        "Fri █ ",
        "    · ",
        "    · ",
    ]


def test_render_handles_an_empty_collection(store, local_tz) -> None:
    console = Console(record=True, width=120, color_system=None)
    render_stats(collect(store, [], NOW, ROLLOVER), console)
    text = console.export_text()
    assert "0 reviews in 0s   Streak: 0 days" in text
    assert "Due in the next 30 days: 0" in text
    assert "Leeches" not in text


def test_long_lists_are_cut_on_screen_and_big_samples_shortened(store, local_tz) -> None:
    empty = collect(store, [], NOW, ROLLOVER)
    leeches = tuple(CardTrouble(f"mine/c{i:02d}", 9, 20, R, True, True) for i in range(20))
    big = Retention(young=PassRate(900, 300), mature=PassRate(9, 1))
    figures = replace(empty, leeches=leeches, retention={**empty.retention, "year": big})
    console = Console(record=True, width=120, color_system=None)
    render_stats(figures, console)
    text = console.export_text()
    assert "mine/c14" in text and "mine/c15" not in text
    assert "… and 5 more (drill stats --json lists them)" in text
    assert "75.0% (n=1.2k)" in text and "90.0% (9/10)" in text
