"""`drill study`, `drill due`, `drill show`, `drill suspend` driven as a user would."""

from __future__ import annotations

import textwrap

import pytest
from typer.testing import CliRunner

from drill.cli import app
from drill.model import Rating
from drill.review.store import Store

DECK = textwrap.dedent(
    """\
    id: backprop
    title: Backpropagation
    description: Two cards for the tests.
    tags: [deep-learning]
    cards:
      - id: two-passes
        q: Name the two passes of backpropagation.
        a: The forward pass computes the loss; the backward pass its gradients.
        tags: [interview]
      - id: chain-rule
        q: Which rule of calculus does the backward pass apply?
        a: The chain rule.
    """
)


@pytest.fixture
def decks(tmp_path, monkeypatch):
    folder = tmp_path / "decks"
    folder.mkdir()
    (folder / "backprop.yaml").write_text(DECK, encoding="utf-8")
    monkeypatch.setenv("DRILL_DECKS", str(folder))
    return folder


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), input=input)


def reviews():
    with Store.open() as store:
        return store.reviews()


@pytest.mark.usefixtures("decks")
def test_scripted_session_reviews_two_cards() -> None:
    result = run("study", "backprop", input="\n3\n\n3\nq\n")
    assert result.exit_code == 0, result.output
    assert "Name the two passes" in result.output
    assert "The chain rule." in result.output
    assert "Reviewed 2 cards" in result.output
    rows = reviews()
    assert [(r.key, r.rating) for r in rows] == [
        ("backprop/two-passes", Rating.GOOD),
        ("backprop/chain-rule", Rating.GOOD),
    ]
    assert all(r.duration_ms is not None and r.seed is None for r in rows)


@pytest.mark.usefixtures("decks")
def test_end_of_input_ends_cleanly_with_a_summary() -> None:
    result = run("study", "backprop", input="\n4\n")
    assert result.exit_code == 0, result.output
    assert "Reviewed 1 card" in result.output
    assert len(reviews()) == 1


@pytest.mark.usefixtures("decks")
def test_undo_and_suspend_keys() -> None:
    result = run("study", "backprop", input="\n1\nu\n\n3\ns\n")
    assert result.exit_code == 0, result.output
    assert "Undid the answer to backprop/two-passes" in result.output
    assert [r.rating for r in reviews()] == [Rating.GOOD]
    with Store.open() as store:
        assert store.card("backprop/chain-rule").suspended


@pytest.mark.usefixtures("decks")
def test_unknown_keys_are_ignored_and_grades_need_a_reveal() -> None:
    result = run("study", "backprop", "--limit", "1", input="x\n3\n\n9\n2\n")
    assert result.exit_code == 0, result.output
    assert [r.rating for r in reviews()] == [Rating.HARD]


@pytest.mark.usefixtures("decks")
def test_tag_filter_and_new_limit() -> None:
    result = run("study", "backprop", "--tag", "interview", input="\n4\n\n4\n")
    assert "Reviewed 1 card" in result.output
    result = run("study", "backprop", "--new", "0")
    assert "Nothing is due now" in result.output


@pytest.mark.usefixtures("decks")
def test_due_counts_then_drops_after_study() -> None:
    result = run("due", "backprop")
    assert result.exit_code == 0, result.output
    assert "backprop" in result.output and "2 cards still due today" in result.output
    run("study", "backprop", input="\n4\n\n4\n")
    result = run("due", "backprop")
    assert "Next card due in" in result.output


@pytest.mark.usefixtures("decks")
def test_show_lists_history() -> None:
    run("study", "backprop", input="\n3\nq\n")
    result = run("show", "backprop/two-passes")
    assert result.exit_code == 0, result.output
    assert "Name the two passes" in result.output and "good" in result.output
    result = run("show", "backprop/two-pases")
    assert result.exit_code == 1
    assert "two-passes" in result.output  # did you mean


@pytest.mark.usefixtures("decks")
def test_suspend_and_unsuspend_commands() -> None:
    assert "Suspended 2 cards." in run("suspend", "backprop").output
    assert "Nothing is due now" in run("study", "backprop").output
    assert "Unsuspended 1 card." in run("unsuspend", "backprop/chain-rule").output
    assert "Unsuspended 0 cards." in run("unsuspend", "backprop/chain-rule").output


def test_a_bad_deck_warns_and_the_others_still_work(decks) -> None:
    (decks / "broken.yaml").write_text("id: broken\ntitle: [unclosed\n", encoding="utf-8")
    result = run("study", "backprop", input="\n3\nq\n")
    assert result.exit_code == 0
    assert "broken.yaml" in result.output  # the one-line warning (stderr is mixed in)
    assert len(reviews()) == 1


@pytest.mark.usefixtures("decks")
def test_unknown_deck_is_one_error_line() -> None:
    result = run("study", "nosuchdeck")
    assert result.exit_code == 1
    assert result.output.count("Error:") == 1 and "Traceback" not in result.output


COMPUTE_DECK = textwrap.dedent(
    """\
    id: sizes
    title: Output sizes
    cards:
      - id: conv
        type: compute
        generator: conv-output-size
    """
)


def test_compute_card_records_seed_answer_and_correctness(decks) -> None:
    from drill.exercises import make
    from drill.exercises.grading import check

    (decks / "sizes.yaml").write_text(COMPUTE_DECK, encoding="utf-8")
    # An unreadable answer is asked again, not graded; then a wrong one; Enter accepts.
    result = run("study", "sizes", input="not a number\n-1\n\n")
    assert result.exit_code == 0, result.output
    assert "Could not read that" in result.output
    assert "Worked solution" in result.output
    (row,) = reviews()
    assert (row.key, row.answer, row.correct, row.rating) == (
        "sizes/conv",
        "-1",
        False,
        Rating.AGAIN,
    )
    exercise = make("conv-output-size", row.seed)  # the exercise can be rebuilt from its seed
    assert not check("-1", exercise).correct
    shown = run("show", "sizes/conv", "--seed", str(row.seed))
    assert exercise.question[:40] in shown.output  # rich wraps the rest of the line


def test_right_compute_answer_proposes_good(decks) -> None:
    from drill.exercises import make

    (decks / "sizes.yaml").write_text(COMPUTE_DECK, encoding="utf-8")
    # Answer after seeing the exercise: read it back from the first run's seed.
    run("study", "sizes", input="\nq\n")  # reveal without answering, then quit
    assert reviews() == []
    result = run("study", "sizes", input="\n\n")  # empty answer shows the solution: Again
    (row,) = reviews()
    assert row.answer is None and row.correct is False and row.rating == Rating.AGAIN
    answer = make("conv-output-size", row.seed).answer
    assert str(answer) in result.output
