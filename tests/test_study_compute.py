"""Compute cards in `drill study`: an undone answer is graded again on the same exercise,
the keys work at the answer> prompt, an answer of the wrong shape is asked again, and
`drill show --seed` refuses a seed no exercise has."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from drill.cli import app
from drill.exercises import make
from drill.review.store import Store

DECK = """\
id: sums
title: Sums
cards:
  - id: params
    type: compute
    generator: param-count
  - id: plain
    q: One plus one?
    a: Two.
"""


@pytest.fixture(autouse=True)
def decks(tmp_path, monkeypatch):
    folder = tmp_path / "decks"
    folder.mkdir()
    (folder / "sums.yaml").write_text(DECK, encoding="utf-8")
    monkeypatch.setenv("DRILL_DECKS", str(folder))


def study(input: str):
    result = CliRunner().invoke(app, ["study", "sums"], input=input)
    assert result.exit_code == 0, result.output
    return result.output


def flat(text: str) -> str:
    """Text without box drawing and line breaks, so that wrapped panels compare."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def logged(include_undone: bool = False):
    with Store.open() as store:
        return store.reviews("sums/params", include_undone=include_undone)


def test_an_undone_answer_is_graded_again_on_the_same_exercise():
    # a wrong answer, Enter takes "again"; at the next card `u` undoes that answer
    output = study("0\n\nu\n0\n3\nq\n")
    assert "Undid the answer to sums/params" in output
    undone, kept = logged(include_undone=True)
    assert [review.seed for review in logged()] == [kept.seed]
    assert kept.seed == undone.seed  # graded again on the exercise it was answered on
    assert (undone.answer, kept.answer) == ("0", "0")
    question = flat(make("param-count", kept.seed).question)
    assert flat(output).count(question) == 2  # shown, undone, shown again
    assert output.count(" sums/params ─") == 2


@pytest.mark.parametrize(
    ("key", "said"), [("s", "Suspended sums/params."), ("q", "Reviewed 0 cards")]
)
def test_keys_work_at_the_answer_prompt(key, said):
    output = study(f"{key}\n")
    assert said in output
    assert "Could not read that" not in output
    assert logged() == []
    if key == "s":
        with Store.open() as store:
            assert store.card("sums/params").suspended


def test_a_suspension_at_the_answer_prompt_is_undone_like_any_other():
    output = study("s\nu\nq\n")  # suspended at answer>; `u` at the next card's question
    assert "Suspended sums/params." in output and "Unsuspended sums/params." in output
    with Store.open() as store:
        assert not store.card("sums/params").suspended
    # back on screen with the same exercise: it was never answered
    first, again = re.findall(r"sums/params ─+\n(.*?)answer>", output, flags=re.S)
    assert flat(first.split("\n", 1)[1]) == flat(again.split("\n", 1)[1])


def test_an_answer_of_the_wrong_shape_is_asked_again():
    output = study("1 2; 3 4\n\n\n")
    assert "the answer is a single number; yours is a 2×2 array. Try again." in " ".join(
        output.split()
    )
    (review,) = logged()
    assert review.answer is None  # the matrix was never graded


def test_question_mark_at_the_answer_prompt_shows_the_keys():
    output = study("?\nq\n")
    assert "Keys" in output and "undo the last answer" in output
    assert "Could not read that" not in output


def test_show_refuses_a_negative_seed():
    result = CliRunner().invoke(app, ["show", "sums/params", "--seed", "-1"])
    assert result.exit_code == 2
    assert "Invalid value for '--seed': -1 is not in the range x>=0." in result.output
    assert "Traceback" not in result.output
    shown = CliRunner().invoke(app, ["show", "sums/params", "--seed", "7"])
    assert shown.exit_code == 0
    assert flat(make("param-count", 7).question) in flat(shown.output)
