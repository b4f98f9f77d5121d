"""`drill optimize`, `drill reschedule` and `drill simulate`, on a synthetic review log.

The log is made by simulating a learner whose memory follows FSRS-6 with known parameters
(TRUE_PARAMETERS: the defaults, except that stability grows more slowly after a success,
w8 = 1.0 instead of 1.87, and the forgetting curve is steeper, w20 = 0.5 instead of 0.15),
studied by a scheduler that uses the defaults:

- 640 cards, 8 new a day, over 220 days; a card's first grade is drawn with Anki's usual
  first-grade frequencies (again 20%, hard 10%, good 55%, easy 15%);
- each later review comes when the default-parameter scheduler (desired retention 0.9)
  says; the learner recalls it with probability R(t, S_true) = (1 + f·t/S)^(−w20) of their
  true memory, then grades hard/good/easy (15/70/15%), or again when they forgot;
- their true memory (stability, difficulty) moves with fsrs-rs's FSRS-6 update under
  TRUE_PARAMETERS, the scheduler's with the defaults.

Every review is written into drill's database at noon UTC (TZ pinned to UTC, so study days
are calendar days). That gives 6,199 reviews; the test takes a few seconds.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from fsrs_rs_python import DEFAULT_PARAMETERS, FSRS, FSRSItem, FSRSReview
from typer.testing import CliRunner

from drill.cli import app
from drill.home.config import load_config
from drill.model import CardState, Rating
from drill.review.optimizer import MIN_REVIEWS, card_histories, training_items
from drill.review.planning import retrievability
from drill.review.store import CardRecord, Review, Store

TRUE_PARAMETERS = list(DEFAULT_PARAMETERS)
TRUE_PARAMETERS[8] = 1.0  # stability grows more slowly after a success
TRUE_PARAMETERS[20] = 0.5  # and recall falls faster at first
START = datetime(2025, 1, 6, 12, 0, tzinfo=UTC)
GRADES = ("again", "hard", "good", "easy")


@pytest.fixture(autouse=True)
def utc_days(monkeypatch):
    """Study days are UTC calendar days here, whatever the machine's zone."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def learner_log(cards: int, per_day: int, days: int, seed: int) -> dict[int, list[tuple]]:
    """Each card's reviews as (day, grade), made as the module docstring says."""
    rng = random.Random(seed)
    truth, scheduler = FSRS(TRUE_PARAMETERS), FSRS(list(DEFAULT_PARAMETERS))
    decay = TRUE_PARAMETERS[20]
    log = {}
    for card in range(cards):
        day = card // per_day
        grade = rng.choices((1, 2, 3, 4), (0.2, 0.1, 0.55, 0.15))[0]
        memory = getattr(truth.next_states(None, 0.9, 0), GRADES[grade - 1]).memory
        planned = getattr(scheduler.next_states(None, 0.9, 0), GRADES[grade - 1])
        history, last = [(day, grade)], day
        while (due := last + max(1, round(planned.interval))) < days:
            elapsed = due - last
            recalled = rng.random() < retrievability(elapsed, memory.stability, decay)
            grade = rng.choices((2, 3, 4), (0.15, 0.7, 0.15))[0] if recalled else 1
            memory = getattr(truth.next_states(memory, 0.9, elapsed), GRADES[grade - 1]).memory
            planned = getattr(
                scheduler.next_states(planned.memory, 0.9, elapsed), GRADES[grade - 1]
            )
            history.append((due, grade))
            last = due
        log[card] = history
    return log


def write_log(log: dict[int, list[tuple]], path) -> int:
    rows = []
    for card, history in log.items():
        key = f"synthetic/card-{card}"
        for index, (day, grade) in enumerate(history):
            at = START + timedelta(days=day)
            after = CardRecord(key, CardState.REVIEW, None, 5.0, 5.0, at + timedelta(days=1), at)
            state_before = CardState.NEW if index == 0 else CardState.REVIEW
            review = Review(key, at, Rating(grade), state_before, CardState.REVIEW, after.due)
            rows.append((at, review, replace(after, reps=index + 1)))
    rows.sort(key=lambda row: row[0])
    with Store(path) as store:
        return store.record_many((review, after) for _, review, after in rows)


def items_of(log: dict[int, list[tuple]]) -> list[FSRSItem]:
    """Training items straight from (day, grade) histories, independently of drill's code."""
    items = []
    for history in log.values():
        reviews, last = [], history[0][0]
        for day, grade in history:
            reviews.append(FSRSReview(grade, day - last))
            if day > last:
                items.append(FSRSItem(list(reviews)))
            last = day
    return items


def run(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def synthetic():
    return learner_log(cards=640, per_day=8, days=220, seed=17)


def test_optimize_recovers_parameters_better_than_the_defaults(synthetic, drill_home):
    reviews = write_log(synthetic, drill_home / "drill.db")
    assert reviews >= 5000

    result = run("optimize", "--json")
    assert result.exit_code == 0, result.output
    fit = json.loads(result.output)
    assert fit["better"] is True
    assert fit["fitted"]["log_loss"] < fit["default"]["log_loss"]
    assert fit["fitted"]["rmse_bins"] < fit["default"]["rmse_bins"]
    assert fit["held_out"] == fit["items"] - int(fit["items"] * 0.8)
    stored = load_config().fsrs_parameters
    assert list(stored) == fit["parameters"] and len(stored) == 21

    # Out of sample: a new learner of the same kind, never seen by the fit.
    fresh = items_of(learner_log(cards=320, per_day=8, days=200, seed=99))
    scores = {
        name: FSRS(list(parameters)).evaluate(fresh)
        for name, parameters in (
            ("default", DEFAULT_PARAMETERS),
            ("fitted", stored),
            ("true", TRUE_PARAMETERS),
        )
    }
    assert scores["fitted"].log_loss < scores["default"].log_loss
    # The figures, for the record (pytest -s shows them).
    print(
        f"\n{reviews} reviews, {fit['items']} items, {fit['held_out']} held out; "
        f"held-out log loss default {fit['default']['log_loss']:.4f} "
        f"fitted {fit['fitted']['log_loss']:.4f}; RMSE(bins) default "
        f"{fit['default']['rmse_bins']:.4f} fitted {fit['fitted']['rmse_bins']:.4f}; "
        f"new learner: default {scores['default'].log_loss:.4f} fitted "
        f"{scores['fitted'].log_loss:.4f} true {scores['true'].log_loss:.4f}"
    )


def test_drill_builds_the_same_training_items_as_the_histories_say(synthetic, drill_home):
    write_log(synthetic, drill_home / "drill.db")
    with Store(drill_home / "drill.db") as store:
        histories = card_histories(store.iter_reviews(), store.renamed(), rollover_hour=4)
    ours = training_items(histories)
    expected = items_of(synthetic)
    # FSRSReview shows its fields only in its repr: "FSRSReview { rating: 3, delta_t: 2 }".
    assert sorted(map(repr, ours)) == sorted(map(repr, expected))
    assert len(ours) > 4000


def test_the_table_says_better_by_how_much_then_reschedule_applies_it(synthetic, drill_home):
    write_log(synthetic, drill_home / "drill.db")
    (drill_home / "config.toml").write_text("# mine\nnew_per_day = 15  # why\n")
    result = run("optimize")
    assert result.exit_code == 0, result.output
    assert "log loss" in result.output and "RMSE (bins)" in result.output
    assert "The fitted parameters are better: log loss " in result.output
    assert "Recompute your cards' memory states with them: drill reschedule" in result.output
    text = (drill_home / "config.toml").read_text()
    assert text.startswith("# mine\nnew_per_day = 15  # why\nfsrs_parameters = [")

    with Store(drill_home / "drill.db") as store:
        before = store.card("synthetic/card-0")
    result = run("reschedule")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Recomputed the memory state and due date of 640 cards")
    with Store(drill_home / "drill.db") as store:
        after = store.card("synthetic/card-0")
        assert len(store.reviews()) == sum(len(h) for h in synthetic.values())  # log untouched
    assert after.stability != before.stability and after.last_review == before.last_review
    assert after.reps == before.reps
    # Replayed with the same parameters, the states it wrote are the states they are.
    assert run("reschedule").output.startswith("Every card's state already matches")


def test_too_few_reviews_says_how_many_more(drill_home):
    write_log(learner_log(cards=8, per_day=8, days=60, seed=1), drill_home / "drill.db")
    result = run("optimize")
    assert result.exit_code == 0, result.output
    with Store(drill_home / "drill.db") as store:
        have = len(training_items(card_histories(store.iter_reviews(), {}, 4)))
    assert 0 < have < MIN_REVIEWS
    assert result.output == (
        f"Not yet: fitting parameters needs {MIN_REVIEWS} reviews made on a later day than "
        f"the card's previous review; there are {have}: {MIN_REVIEWS - have} more to go.\n"
    )
    assert not (drill_home / "config.toml").exists()


def test_simulate_compares_retentions(drill_home):
    result = run(
        "simulate", "--retention", "0.8", "0.9", "0.95", "--days", "90", "--cards", "300",
        "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [row["retention"] for row in rows] == [0.8, 0.9, 0.95]
    # Aiming higher costs more reviews and keeps more in memory.
    assert rows[0]["reviews_per_day"] < rows[1]["reviews_per_day"] < rows[2]["reviews_per_day"]
    assert rows[0]["memorized"] < rows[1]["memorized"] < rows[2]["memorized"]
    assert all(row["memorized"] <= 300 for row in rows)


def test_simulate_refuses_a_retention_out_of_range(drill_home):
    result = run("simulate", "--retention", "1.2", "--cards", "10")
    assert result.exit_code == 1
    assert "Error: a desired retention must be between 0.7 and 0.99, not 1.2" in result.output
