"""Crash safety: a `drill study` killed with SIGKILL loses at most the card being answered.

Every test kills a real process. Afterwards the database must pass SQLite's integrity check,
hold every answer whose next card had appeared (each answer is committed before the next
card is shown), and keep the review log and the card states in step: one transaction holds
both, so a review is never logged without its new state, nor the reverse.
"""

from __future__ import annotations

import signal
import sys

import pytest
from study_process import (
    ANSWER,
    StudyProcess,
    integrity,
    logged_keys,
    states,
    write_deck,
)

from drill.review.store import Store

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


@pytest.fixture
def deck(tmp_path):
    folder = tmp_path / "decks"
    return folder, write_deck(folder, "t", 16)


def assert_consistent(database, expected_prefix: list[str]) -> list[str]:
    """Integrity ok; the log is a prefix of the deck order; log and states agree."""
    assert integrity(database) == "ok"
    logged = logged_keys(database)
    assert logged == expected_prefix[: len(logged)]
    card_states = states(database)
    assert set(card_states) == set(logged)
    assert all(reps == 1 for reps, _ in card_states.values())
    with Store(database) as store:  # opens cleanly, nothing to repair
        assert [r.key for r in store.reviews()] == logged
    return logged


def test_killed_between_answers_keeps_every_answer(drill_home, deck):
    folder, keys = deck
    study = StudyProcess(drill_home, folder, "t")
    for key in keys[:3]:
        study.wait_for_card(key)
        study.type(ANSWER)
    study.wait_for_card(keys[3])  # shown only after the third answer was committed
    study.kill()

    assert assert_consistent(drill_home / "drill.db", keys) == keys[:3]


def test_killed_while_answering_loses_only_that_card(drill_home, deck):
    folder, keys = deck
    study = StudyProcess(drill_home, folder, "t")
    study.wait_for_card(keys[0])
    study.type(ANSWER)
    study.wait_for_card(keys[1])
    study.type("\n")  # reveal the second card's answer, but never grade it
    study.wait_for("Answer")
    study.wait_for("again")
    study.kill()

    assert assert_consistent(drill_home / "drill.db", keys) == keys[:1]
    # The next session picks up at the unanswered card.
    study = StudyProcess(drill_home, folder, "t")
    study.wait_for_card(keys[1])
    code, _, stderr = study.finish(ANSWER + "q\n")
    assert (code, stderr) == (0, "")
    assert logged_keys(drill_home / "drill.db") == keys[:2]


# Inside the write transaction: the review row is inserted, the card state not yet saved.
_DIE_INSIDE_THE_TRANSACTION = """
import os, signal, sys
import drill.review.store

real_put_card = drill.review.store._put_card
saved = []

def put_card_then_die(db, record):
    saved.append(record.key)
    if len(saved) == int(os.environ["DIE_AT"]):
        os.kill(os.getpid(), signal.SIGKILL)
    real_put_card(db, record)

drill.review.store._put_card = put_card_then_die
sys.argv[0] = "drill"
from drill.cli import main
main()
"""


def test_killed_inside_the_write_transaction_loses_only_that_answer(drill_home, deck, monkeypatch):
    folder, keys = deck
    monkeypatch.setenv("DIE_AT", "3")
    study = StudyProcess(drill_home, folder, "t", script=_DIE_INSIDE_THE_TRANSACTION)
    study.type(ANSWER * 5)
    code, screen, _ = study.finish()
    assert code == -signal.SIGKILL
    assert f" {keys[2]} " in screen  # it died answering the third card

    assert assert_consistent(drill_home / "drill.db", keys) == keys[:2]


@pytest.mark.parametrize("seen", [2, 5, 9])
def test_killed_at_any_moment_of_a_fast_session(drill_home, deck, seen):
    """Answers stream in as fast as the process takes them; the kill lands wherever."""
    folder, keys = deck
    study = StudyProcess(drill_home, folder, "t")
    study.type(ANSWER * len(keys))
    study.wait_for_card(keys[seen])
    study.kill()

    logged = assert_consistent(drill_home / "drill.db", keys)
    assert len(logged) >= seen  # every card shown before keys[seen] was answered and kept
