"""Preparing for a date: predicted recall, the plan, scheduling toward the date, the stored
date in config.toml, and what `drill due` and `drill stats` say about it.

TZ is pinned to UTC, so a study day starts at 04:00 UTC (rollover_hour 4) on every machine.
"""

from __future__ import annotations

import json
import random
import textwrap
import time
from datetime import UTC, date, datetime, timedelta

import fsrs
import pytest
from session_support import Clock
from typer.testing import CliRunner

from drill.cli import app
from drill.home.config import Config, load_config
from drill.model import Card, CardState, Rating
from drill.review.planning import (
    DEFAULT_DECAY,
    PlanError,
    make_plan,
    predicted_recall,
    readiness,
)
from drill.review.scheduler import PREP_DAYS, Scheduler
from drill.review.session import Session
from drill.review.store import CardRecord, Store

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, in the study day of 2 March
FITTED = (0.4, 1.2, 3.1, 15.0, 7.2, 0.5, 1.6, 0.005, 1.5, 0.12, 1.0, 1.9, 0.11, 0.29, 2.2,
          0.23, 2.9, 0.5, 0.66, 0.06, 0.4)  # fmt: skip


@pytest.fixture(autouse=True)
def utc_days(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def cards_of(deck: str, n: int, tags: tuple[str, ...] = ()) -> list[Card]:
    return [Card(deck, f"c{i}", q=f"q{i}", a=f"a{i}", tags=tags) for i in range(n)]


def reviewed(key: str, stability: float, last: datetime) -> CardRecord:
    return CardRecord(key, CardState.REVIEW, None, stability, 5.0, last + timedelta(days=3), last)


def formula(days: float, stability: float, decay: float) -> float:
    """FSRS-6's forgetting curve, written out again."""
    factor = 0.9 ** (-1 / decay) - 1
    return (1 + factor * days / stability) ** -decay


# -- predicted recall ---------------------------------------------------------------------


def test_the_default_decay_is_fsrs_sixs():
    assert fsrs.scheduler.DEFAULT_PARAMETERS[20] == pytest.approx(DEFAULT_DECAY)


@pytest.mark.parametrize(
    ("last", "day", "stability", "days"),
    [
        (datetime(2026, 3, 2, 4, tzinfo=UTC), date(2026, 3, 12), 10.0, 10),  # R(S) = 0.9
        (datetime(2026, 3, 2, 4, tzinfo=UTC), date(2026, 3, 3), 2.5, 1),
        (datetime(2026, 3, 2, 4, tzinfo=UTC), date(2026, 6, 10), 30.0, 100),
        (datetime(2026, 2, 28, 16, tzinfo=UTC), date(2026, 3, 10), 4.0, 9.5),  # half a day
    ],
)
@pytest.mark.parametrize("parameters", [None, FITTED])
def test_predicted_recall_is_fsrs_retrievability_at_the_date(
    last, day, stability, days, parameters
):
    config = Config(fsrs_parameters=parameters or ())
    decay = parameters[20] if parameters else fsrs.scheduler.DEFAULT_PARAMETERS[20]
    card = Card("d", "c")
    records = {card.key: reviewed(card.key, stability, last)}
    ready = readiness([card], records, NOW, day, config)
    assert ready.recall == pytest.approx(formula(days, stability, decay), rel=1e-12)
    if days == stability:
        assert ready.recall == pytest.approx(0.9)
    if float(days).is_integer():  # py-fsrs counts whole days: the same figure
        scheduler = fsrs.Scheduler(parameters=parameters or fsrs.scheduler.DEFAULT_PARAMETERS)
        theirs = fsrs.Card(state=fsrs.State.Review, stability=stability, difficulty=5.0)
        theirs.last_review = last
        moment = datetime(day.year, day.month, day.day, 4, tzinfo=UTC)
        assert ready.recall == pytest.approx(scheduler.get_card_retrievability(theirs, moment))


def test_a_new_card_has_recall_zero_and_readiness_is_per_deck_and_tag_weakest_first():
    a, b = cards_of("alpha", 2, ("ml",)), cards_of("beta", 2, ("ml", "stats"))
    last = datetime(2026, 3, 1, 4, tzinfo=UTC)
    records = {
        "alpha/c0": reviewed("alpha/c0", 10.0, last),
        "alpha/c1": reviewed("alpha/c1", 40.0, last),
        "beta/c0": reviewed("beta/c0", 10.0, last),  # beta/c1 is new
    }
    assert predicted_recall(None, NOW, DEFAULT_DECAY) == 0.0
    ready = readiness(a + b, records, NOW, date(2026, 3, 11), Config())
    r10, r40 = formula(10, 10.0, DEFAULT_DECAY), formula(10, 40.0, DEFAULT_DECAY)
    assert [(g.name, g.cards, g.new) for g in ready.decks] == [("beta", 2, 1), ("alpha", 2, 0)]
    assert ready.decks[0].recall == pytest.approx(r10 / 2)
    assert ready.decks[1].recall == pytest.approx((r10 + r40) / 2)
    assert [g.name for g in ready.tags] == ["stats", "ml"]
    assert ready.recall == pytest.approx((2 * r10 + r40) / 4)
    assert ready.days_left == 9 and ready.new == 1


# -- the plan -----------------------------------------------------------------------------


def test_a_plan_for_a_fresh_home_schedules_every_card_before_the_date():
    cards = cards_of("alpha", 30) + cards_of("beta", 17)
    day = date(2026, 3, 16)  # 14 study days: 2 March to 15 March
    plan = make_plan(cards, {}, NOW, day, Config())
    assert plan.new_per_day == 4  # ceil(47 / 14)
    assert len(plan.days) == 14 and all(d.day < day for d in plan.days)
    assert sum(d.new for d in plan.days) == 47
    assert set(plan.introduced) == {card.key for card in cards}
    assert all(first < day for first in plan.introduced.values())
    # Every card is reviewed in the last days before the date, so it is ready on it.
    assert all(day - last <= timedelta(days=PREP_DAYS) for last in plan.last_review.values())
    assert plan.lowest_after >= 0.9 and plan.recall_after > 0.95
    assert plan.readiness.recall == 0.0  # as things stand: nothing seen yet


def test_the_plan_counts_reviews_of_cards_already_known():
    cards = cards_of("alpha", 3)
    last = NOW - timedelta(days=1)
    records = {card.key: reviewed(card.key, 20.0, last) for card in cards}
    records["alpha/c2"] = CardRecord("alpha/c2", suspended=True)  # left out
    plan = make_plan(cards, records, NOW, date(2026, 3, 30), Config(fuzz=False))
    assert plan.new_per_day == 0 and sum(d.new for d in plan.days) == 0
    assert plan.readiness.cards == 2
    # Each known card is reviewed when due, on 4 March (3 days after its last review); each
    # review adds the relearning step a lapse would take, with the chance of one.
    assert [d.reviews for d in plan.days[:2]] == [0, 0]
    lapse = 1 - formula(3, 20.0, DEFAULT_DECAY)
    assert plan.days[2].reviews == pytest.approx(2 * (1 + lapse))
    assert set(plan.last_review) == {"alpha/c0", "alpha/c1"}
    day = date(2026, 3, 30)
    assert all(day - last <= timedelta(days=PREP_DAYS) for last in plan.last_review.values())


@pytest.mark.parametrize("day", [date(2026, 3, 2), date(2026, 2, 1), date(2029, 1, 1)])
def test_a_date_not_ahead_or_too_far_is_refused(day):
    with pytest.raises(PlanError):
        make_plan(cards_of("alpha", 1), {}, NOW, day, Config())


# -- scheduling toward the date -----------------------------------------------------------


def test_with_a_date_set_no_due_date_passes_it_unless_reviewed_in_the_last_days(store):
    """A month of study with random grades: after every answer, each card is due before the
    date, or was last reviewed in its last PREP_DAYS study days."""
    day = date(2026, 4, 1)
    target = datetime(2026, 4, 1, 4, tzinfo=UTC)
    last_days = target - timedelta(days=PREP_DAYS)
    config = Config(interview_date=day.isoformat(), new_per_day=10)
    cards = cards_of("alpha", 40)
    clock, rng = Clock(NOW), random.Random(5)
    shortened = kept_long = 0
    while clock.now < target + timedelta(days=2):
        session = Session(store, cards, config, clock=clock, rng=rng)
        while (card := session.next_card()) is not None:
            rating = rng.choices(list(Rating), (0.1, 0.15, 0.6, 0.15))[0]
            natural = Scheduler(Config()).review(session.record_of(card), rating, clock.now)
            after = session.answer(card, rating).after
            if after.due > target:
                assert after.last_review >= last_days
                kept_long += 1
            shortened += natural.due > target >= after.due
            clock.advance(seconds=20)
        for record in store.cards().values():
            assert record.due <= target or record.last_review >= last_days, record
        clock.now = clock.now.replace(hour=9, minute=0) + timedelta(days=1)
    assert shortened > 20 and kept_long > 20  # both sides of the rule were exercised


def test_only_the_dates_cards_are_shortened():
    config = Config(interview_date="2026-04-01", fuzz=False)
    scheduler = Scheduler(config, toward_date={"alpha/c0"})
    record = reviewed("alpha/c0", 60.0, NOW - timedelta(days=20))
    other = reviewed("beta/c0", 60.0, NOW - timedelta(days=20))
    ours = scheduler.review(record, Rating.GOOD, NOW)
    theirs = scheduler.review(other, Rating.GOOD, NOW)
    target = datetime(2026, 4, 1, 4, tzinfo=UTC)
    assert target - timedelta(days=PREP_DAYS) <= ours.due < target
    assert theirs.due > target
    assert ours.stability == theirs.stability  # memory is untouched, only the due date


# -- the stored date ----------------------------------------------------------------------

DECK = textwrap.dedent(
    """\
    id: alpha
    title: Alpha
    cards:
    """
) + "".join(f"  - {{id: c{i}, q: q{i}, a: a{i}, tags: [t{i % 2}]}}\n" for i in range(12))
OTHER = "id: beta\ntitle: Beta\ncards:\n  - {id: one, q: q, a: a}\n"


@pytest.fixture
def decks(tmp_path, monkeypatch):
    folder = tmp_path / "decks"
    folder.mkdir()
    (folder / "alpha.yaml").write_text(DECK, encoding="utf-8")
    (folder / "beta.yaml").write_text(OTHER, encoding="utf-8")
    monkeypatch.setenv("DRILL_DECKS", str(folder))
    return folder


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), input=input)


def study_today() -> date:
    """The study day now (TZ is UTC, rollover at 04:00), computed independently."""
    return (datetime.now(UTC) - timedelta(hours=4)).date()


@pytest.mark.usefixtures("decks")
def test_plan_set_keeps_the_config_comments_and_clear_removes_only_its_lines(drill_home):
    config = drill_home / "config.toml"
    config.write_text("# my drill\nnew_per_day = 12   # gentle\n\nrollover_hour = 4\n")
    day = study_today() + timedelta(days=10)
    result = run("plan", "alpha", "--tag", "t0", "--set", day.isoformat())
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Stored the interview date {day.isoformat()} in the config")
    assert config.read_text() == (
        "# my drill\nnew_per_day = 12   # gentle\n\nrollover_hour = 4\n"
        f'interview_date = "{day.isoformat()}"\ninterview_decks = ["alpha"]\n'
        'interview_tags = ["t0"]\n'
    )
    loaded = load_config()
    assert loaded.interview_day == day and loaded.interview_decks == ("alpha",)

    again = day + timedelta(days=1)
    config.write_text(config.read_text().replace(f'"{day}"', f'"{day}"  # the big one'))
    assert run("plan", "beta", "--set", again.isoformat()).exit_code == 0
    assert f'interview_date = "{again.isoformat()}"  # the big one\n' in config.read_text()
    assert 'interview_decks = ["beta"]\n' in config.read_text()
    assert "interview_tags" not in config.read_text()  # --set without tags: any tag

    result = run("plan", "--clear")
    assert result.output == f"Forgot the interview date {again.isoformat()}.\n"
    assert config.read_text() == "# my drill\nnew_per_day = 12   # gentle\n\nrollover_hour = 4\n"


@pytest.mark.usefixtures("decks")
def test_plan_json_for_a_fresh_home_introduces_every_card_before_the_date():
    day = study_today() + timedelta(days=5)
    result = run("plan", "alpha", "--date", day.isoformat(), "--json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    assert plan["date"] == day.isoformat() and plan["days_left"] == 5
    assert plan["new_per_day"] == 3  # ceil(12 / 5)
    assert [d["new"] for d in plan["days"]] == [3, 3, 3, 3, 0]
    assert all(d["date"] < day.isoformat() for d in plan["days"])
    assert [g["name"] for g in plan["decks"]] == ["alpha"] and plan["recall"] == 0.0
    assert {g["name"] for g in plan["tags"]} == {"t0", "t1"}


@pytest.mark.usefixtures("decks")
def test_plan_shows_tables_and_the_daily_workload():
    day = study_today() + timedelta(days=4)
    result = run("plan", "alpha", "--date", day.isoformat())
    assert result.exit_code == 0, result.output
    assert "Predicted recall on the date as things stand, weakest first" in result.output
    assert "To be ready: 3 new cards a day and about " in result.output
    assert "Day by day" in result.output
    assert f"{day - timedelta(days=1):%a %d %b}" in result.output


@pytest.mark.usefixtures("decks")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--date", "2027-13-01"], "Error: '2027-13-01' is not a date like 2027-01-15"),
        (["--date", "tomorrow"], "Error: 'tomorrow' is not a date like 2027-01-15"),
        ([], "Error: no date: give --date YYYY-MM-DD, or store one with --set YYYY-MM-DD"),
        (["--date", "2020-01-01"], "Error: 2020-01-01 is not after today: give a date"),
        (["--date", "2026-01-01", "--set", "2026-01-01"], "Error: give --date or --set, not"),
    ],
)
def test_plan_errors_are_one_line(args, message):
    result = run("plan", "alpha", *args)
    assert result.exit_code == 1
    assert result.output.startswith(message) and result.output.count("\n") == 1


@pytest.mark.usefixtures("decks")
def test_due_and_stats_show_days_left_readiness_and_the_plans_pace(drill_home):
    day = study_today() + timedelta(days=5)
    assert run("plan", "alpha", "--set", day.isoformat()).exit_code == 0
    result = run("due", "alpha", "beta")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    # 12 new cards over 5 days: 3 today, for every deck studied (the date's come first).
    assert lines[1:4] == [
        "alpha    3         0       0            0",
        "beta     1         0       0            0",  # each deck's row within the day's 3
        "total    3         0       0            0",
    ]
    assert lines[4:] == [
        "3 cards still due today.",
        f"10 new cards wait for tomorrow (the plan's pace for {day}: 3 a day).",
        "Tomorrow: 3 cards (0 to review, 3 new).",
        f"Interview on {day:%a %d %b %Y}: 5 days left; predicted recall then 0%. "
        "`drill plan` shows what to do each day.",
    ]
    # Studying takes the date's cards first, three of them.
    result = run("study", "alpha", "beta", input="\n3\n" * 3 + "\n4\n" * 3 + "q\n")
    assert result.exit_code == 0, result.output
    assert "Interview on" in result.output and "intervals that" in result.output
    with Store.open() as store:
        assert {r.key for r in store.reviews()} == {"alpha/c0", "alpha/c1", "alpha/c2"}
    stats = json.loads(run("stats", "alpha", "--json").output)
    assert stats["interview"]["days_left"] == 5 and stats["interview"]["new"] == 9
    assert 0 < stats["interview"]["recall"] < 0.3
    assert "Interview on" in run("stats", "alpha").output


@pytest.mark.usefixtures("decks")
def test_without_a_date_due_says_what_the_limit_holds_back_and_tomorrows_count(drill_home):
    (drill_home / "config.toml").write_text("new_per_day = 5\n")
    result = run("due", "alpha", "beta")
    assert result.output.splitlines()[-3:] == [
        "5 cards still due today.",
        "8 new cards wait for tomorrow (new_per_day = 5).",
        "Tomorrow: 5 cards (0 to review, 5 new).",
    ]
    result = run("study", "alpha", "beta", "--limit", "1", input="\n4\n")
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().endswith("8 new cards wait for tomorrow (new_per_day = 5).")
    (drill_home / "config.toml").write_text("new_per_day = 50\n")
    assert "wait for tomorrow" not in run("due", "alpha", "beta").output


# -- settings -------------------------------------------------------------------------------


def test_the_scheduler_uses_the_fitted_parameters():
    new = CardRecord("alpha/c0")
    fitted = Scheduler(Config(fsrs_parameters=FITTED)).review(new, Rating.GOOD, NOW)
    default = Scheduler(Config()).review(new, Rating.GOOD, NOW)
    assert fitted.stability == pytest.approx(FITTED[2])  # w2: first stability after good
    assert default.stability == pytest.approx(fsrs.scheduler.DEFAULT_PARAMETERS[2])


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('interview_date = "2027-02-30"', "interview_date must be a date like 2027-01-15"),
        ('interview_date = "15/01/2027"', "interview_date must be a date like 2027-01-15"),
        ("fsrs_parameters = [1, 2, 3]", "fsrs_parameters must be a list of 21 numbers"),
        ('interview_decks = "alpha"', 'interview_decks must be a list of strings like ["'),
    ],
)
@pytest.mark.usefixtures("decks")
def test_bad_settings_are_one_error_line(drill_home, line, message):
    (drill_home / "config.toml").write_text(line + "\n")
    result = run("due", "alpha")
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert message in result.output and "config.toml" in result.output


def test_the_due_line_on_the_day_and_after_it():
    from drill.ui.due_view import readiness_text

    ready = readiness(cards_of("alpha", 1), {}, NOW, date(2026, 3, 2), Config())
    assert readiness_text(ready) == "Interview today (Mon 02 Mar 2026). Good luck!"
    ready = readiness(cards_of("alpha", 1), {}, NOW, date(2026, 2, 27), Config())
    assert readiness_text(ready) == (
        "The interview date Fri 27 Feb 2026 has passed: `drill plan --clear` forgets it."
    )
