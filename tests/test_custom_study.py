"""Custom study: `drill study --ahead N`, `--cram` (with or without `--record`), `--failed N`."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from session_support import T0, Clock, put
from typer.testing import CliRunner

from drill.cli import app
from drill.home.config import Config
from drill.model import Card, CardState, Rating
from drill.review.custom import CustomSession, ahead_cards, cram_cards, failed_cards
from drill.review.planning import DEFAULT_DECAY, predicted_recall
from drill.review.store import CardRecord, Store

CARDS = [Card("alpha", f"c{i}", q=f"question {i}", a=f"answer {i}") for i in range(5)]
CONFIG = Config(fuzz=False)


def review_record(key: str, due: datetime, stability: float = 5.0, **kw) -> CardRecord:
    last = kw.pop("last", due - timedelta(days=4))
    return CardRecord(key, CardState.REVIEW, None, stability, 5.0, due, last, reps=3, **kw)


@pytest.fixture
def filled(store: Store) -> Store:
    """c0 due now, c1 in two days, c2 in six, c3 in its learning steps, c4 new."""
    put(store, review_record("alpha/c0", T0 - timedelta(hours=1)))
    put(store, review_record("alpha/c1", T0 + timedelta(days=2), stability=9.0))
    put(store, review_record("alpha/c2", T0 + timedelta(days=6), stability=30.0))
    learning = CardRecord("alpha/c3", CardState.LEARNING, 1, 2.3, 5.0, T0 + timedelta(hours=3))
    put(store, replace(learning, last_review=T0 - timedelta(minutes=5), reps=1))
    return store


def keys(cards) -> list[str]:
    return [card.key for card in cards]


# -- review ahead ---------------------------------------------------------------------------


def test_ahead_takes_review_cards_due_within_n_days_soonest_first(filled: Store):
    records = filled.cards()
    assert keys(ahead_cards(CARDS, records, T0, CONFIG, 3)) == ["alpha/c0", "alpha/c1"]
    assert keys(ahead_cards(CARDS, records, T0, CONFIG, 7)) == ["alpha/c0", "alpha/c1", "alpha/c2"]
    suspended = {**records, "alpha/c1": replace(records["alpha/c1"], suspended=True)}
    assert keys(ahead_cards(CARDS, suspended, T0, CONFIG, 3)) == ["alpha/c0"]


def test_reviewing_ahead_is_recorded_with_the_shorter_elapsed_time(filled: Store):
    clock = Clock(T0)
    queue = ahead_cards(CARDS, filled.cards(), T0, CONFIG, 3)
    session = CustomSession(filled, queue, CONFIG, clock=clock)
    shown = []
    while (card := session.next_card()) is not None and card.key != "alpha/c3":
        shown.append(card.key)
        session.answer(card, Rating.GOOD)
    assert shown == ["alpha/c0", "alpha/c1"]
    rows = filled.reviews()
    assert [(r.key, r.state_before) for r in rows] == [
        ("alpha/c0", CardState.REVIEW),
        ("alpha/c1", CardState.REVIEW),
    ]
    early = filled.card("alpha/c1")
    assert early.last_review == T0 and early.due > T0 + timedelta(days=2)


# -- cram -----------------------------------------------------------------------------------


def test_cram_orders_every_card_weakest_predicted_recall_first(filled: Store):
    records = filled.cards()
    order = cram_cards(CARDS, records, T0, CONFIG)
    recall = [predicted_recall(records.get(card.key), T0, DEFAULT_DECAY) for card in order]
    assert recall == sorted(recall) and recall[0] == 0.0
    assert keys(order)[0] == "alpha/c4"  # never seen: nothing to recall
    assert set(keys(order)) == set(keys(CARDS))


def test_cram_without_record_changes_nothing_and_repeats_what_was_failed(filled: Store):
    before = filled.cards()
    queue = cram_cards(CARDS, before, T0, CONFIG)
    session = CustomSession(filled, queue, CONFIG, clock=Clock(T0), record=False)
    shown = []
    while (card := session.next_card()) is not None:
        shown.append(card.key)
        first_c2 = card.key == "alpha/c2" and shown.count(card.key) == 1
        session.answer(card, Rating.AGAIN if first_c2 else Rating.GOOD)
    assert sorted(shown) == sorted([*keys(CARDS), "alpha/c2"])  # c3, in its steps, too
    assert shown[-1] == "alpha/c2"  # failed, so practised again at the end
    assert filled.reviews() == [] and filled.cards() == before
    assert session.summary.reviewed == 6
    assert session.summary.grades[Rating.AGAIN] == 1


def test_practice_answers_can_be_undone(filled: Store):
    session = CustomSession(filled, CARDS[:2], CONFIG, clock=Clock(T0), record=False)
    first = session.next_card()
    session.answer(first, Rating.EASY)
    assert session.summary.reviewed == 1
    assert session.undo() == first and session.next_card() == first
    assert session.summary.reviewed == 0 and session.summary.grades[Rating.EASY] == 0


def test_cram_with_record_records_every_card_due_or_not(filled: Store):
    queue = cram_cards(CARDS, filled.cards(), T0, CONFIG)
    session = CustomSession(filled, queue, CONFIG, clock=Clock(T0), record=True)
    for _ in range(len(CARDS)):
        session.answer(session.next_card(), Rating.EASY)
    assert sorted(r.key for r in filled.reviews()) == sorted(keys(CARDS))
    assert filled.card("alpha/c2").last_review == T0  # due in six days, reviewed now


# -- failed cards ---------------------------------------------------------------------------


def test_failed_takes_cards_graded_again_in_the_last_n_days(store: Store):
    clock = Clock(T0 - timedelta(days=5))
    session = CustomSession(store, CARDS, CONFIG, clock=clock)
    for card in CARDS[:2]:  # failed five days ago
        session.answer(card, Rating.AGAIN)
    clock.advance(days=4)  # yesterday
    session.answer(CARDS[2], Rating.AGAIN)
    session.answer(CARDS[3], Rating.GOOD)
    clock.advance(days=1)  # today
    last = session.answer(CARDS[4], Rating.AGAIN)
    store.undo(last.review_id, clock.now, key=last.card.key)  # an undone failure is no failure
    records = store.cards()
    assert keys(failed_cards(CARDS, records, store, T0, CONFIG, 1)) == []
    assert keys(failed_cards(CARDS, records, store, T0, CONFIG, 2)) == ["alpha/c2"]
    assert sorted(keys(failed_cards(CARDS, records, store, T0, CONFIG, 6))) == [
        "alpha/c0",
        "alpha/c1",
        "alpha/c2",
    ]


def test_failed_follows_renamed_cards(store: Store):
    old = Card("alpha", "old-name")
    session = CustomSession(store, [old], CONFIG, clock=Clock(T0))
    session.answer(old, Rating.AGAIN)
    store.follow_renames({"alpha/old-name": "alpha/c0"})
    assert keys(failed_cards(CARDS, store.cards(), store, T0, CONFIG, 1)) == ["alpha/c0"]


# -- the command ----------------------------------------------------------------------------

DECK = textwrap.dedent(
    """\
    id: alpha
    title: Alpha
    cards:
      - {id: c0, q: What is zero?, a: Zero.}
      - {id: c1, q: What is one?, a: One.}
      - {id: c2, q: What is two?, a: Two.}
    """
)


@pytest.fixture
def decks(tmp_path, monkeypatch):
    folder = tmp_path / "decks"
    folder.mkdir()
    (folder / "alpha.yaml").write_text(DECK, encoding="utf-8")
    monkeypatch.setenv("DRILL_DECKS", str(folder))


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), input=input)


def reviews() -> list:
    with Store.open() as store:
        return store.reviews()


@pytest.mark.usefixtures("decks")
def test_study_cram_is_practice_unless_recorded():
    result = run("study", "alpha", "--cram", input="\n3\n" * 3)
    assert result.exit_code == 0, result.output
    assert "Cram, weakest first: practice only, nothing is recorded." in result.output
    assert "What is two?" in result.output and "Reviewed 3 cards" in result.output
    assert reviews() == []
    result = run("study", "alpha", "--cram", "--record", "--limit", "2", input="\n4\n" * 2)
    assert "Cram, weakest first: answers are recorded." in result.output
    assert [r.key for r in reviews()] == ["alpha/c0", "alpha/c1"]


@pytest.mark.usefixtures("decks")
def test_study_ahead_and_failed_say_when_there_is_nothing():
    assert run("study", "alpha", "--ahead", "2").output == (
        "No review card is due in the next 2 days.\n"
    )
    assert run("study", "alpha", "--failed", "7").output == (
        "No card was failed in the last 7 days.\n"
    )
    # Fail c0 now; easy c1 out of its steps: it is due in days, so review-ahead finds it.
    run("study", "alpha", "--limit", "2", input="\n1\n\n4\n")
    result = run("study", "alpha", "--failed", "1", input="\n3\n")
    assert result.exit_code == 0, result.output
    assert "Cards failed in the last 1 day, weakest first." in result.output
    assert "What is zero?" in result.output and "Reviewed 1 card" in result.output
    due_in = reviews()[1].due_after - datetime.now(UTC)
    result = run("study", "alpha", "--ahead", str(due_in.days + 1), input="\n3\n")
    assert "Reviewing ahead" in result.output and "What is one?" in result.output
    assert [r.key for r in reviews()][-1] == "alpha/c1"


@pytest.mark.usefixtures("decks")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ahead", "2", "--cram"], "Error: choose one of --ahead and --cram\n"),
        (["--cram", "--failed", "3"], "Error: choose one of --cram and --failed\n"),
        (["--record"], "Error: --record goes with --cram (other sessions are always recorded)\n"),
    ],
)
def test_custom_options_that_do_not_go_together_are_one_error(args, message):
    result = run("study", "alpha", *args)
    assert result.exit_code == 1 and result.output == message
