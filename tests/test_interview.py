"""The mock interview: the draw, timing and scoring with a pinned clock, and a scripted
interview through piped input that records nothing unless --record is given."""

from __future__ import annotations

import random
import textwrap

import pytest
from typer.testing import CliRunner

from drill.cli import app
from drill.decks.loader import load_collection
from drill.decks.selection import select_cards
from drill.exercises import make
from drill.home.config import Config
from drill.interview import Interview, Question, Suggestion, Weakness, pick_questions
from drill.model import Card, CardType, Rating
from drill.review.session import Session
from drill.review.store import Store


def basic(card_id: str, *tags: str, deck: str = "d") -> Card:
    return Card(deck, card_id, q=f"{card_id}?", a=f"{card_id}.", tags=tags)


def compute(card_id: str, generator: str = "param-count", deck: str = "d") -> Card:
    return Card(deck, card_id, type=CardType.COMPUTE, generator=generator)


def own_tags(card: Card) -> tuple[str, ...]:
    return card.tags


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# -- the draw ------------------------------------------------------------------------------


def test_half_compute_half_interview_questions() -> None:
    cards = [basic(f"q{i}", "interview") for i in range(5)] + [compute(f"c{i}") for i in range(5)]
    cards.append(basic("plain"))  # not tagged interview: never asked
    questions = pick_questions(cards, own_tags, 4, random.Random(1))
    assert [q.number for q in questions] == [1, 2, 3, 4]
    kinds = sorted(q.card.type.value for q in questions)
    assert kinds == ["basic", "basic", "compute", "compute"]
    assert all(q.card.id != "plain" for q in questions)
    assert all((q.seed is not None) == q.is_compute for q in questions)
    again = pick_questions(cards, own_tags, 4, random.Random(1))
    assert again == questions  # the same seed draws the same interview


def test_one_kind_fills_in_for_the_other() -> None:
    cards = [basic("q0", "interview"), *(compute(f"c{i}") for i in range(5))]
    questions = pick_questions(cards, own_tags, 4, random.Random(2))
    assert sorted(q.card.id for q in questions if not q.is_compute) == ["q0"]
    assert len(questions) == 4
    assert len(pick_questions(cards, own_tags, 50, random.Random(2))) == 6


def test_deck_tags_count_and_missing_generators_are_left_out() -> None:
    cards = [basic("q0"), compute("c0", generator="no-such-generator"), compute("c1")]
    questions = pick_questions(cards, lambda card: ("interview",), 5, random.Random(0))
    assert sorted(q.card.id for q in questions) == ["c1", "q0"]
    with pytest.raises(ValueError, match="at least one"):
        pick_questions(cards, own_tags, 0, random.Random(0))


# -- timing and scoring --------------------------------------------------------------------


def question(number: int, card: Card, *tags: str) -> Question:
    return Question(
        number, card, tags or card.tags, seed=7 if card.type is CardType.COMPUTE else None
    )


def test_times_scores_and_the_report() -> None:
    clock = Clock()
    asked = [
        question(1, basic("a", "interview", "optim", deck="nets")),
        question(2, compute("b", deck="nets"), "math"),
        question(3, basic("c", "interview", "optim", deck="stats")),
        question(4, basic("e", "interview", deck="stats")),
    ]
    mock = Interview(asked, clock=clock)
    answers = [(Rating.GOOD, 30), (Rating.AGAIN, 95), (Rating.HARD, 12), (Rating.EASY, 8)]
    for (rating, seconds), expected in zip(answers, asked, strict=True):
        q = mock.next_question()
        assert q == expected
        clock.now += seconds
        assert mock.elapsed() == seconds
        result = mock.answer(q, rating, correct=False if q.is_compute else None)
        assert result.seconds == seconds
    assert mock.next_question() is None
    report = mock.report()
    assert (report.score, report.share, report.seconds) == (2.5, 2.5 / 4, 145)
    assert (report.time_up, report.recorded, report.planned) == (False, False, 4)
    assert report.weakest_decks == (Weakness("nets", 1.0, 2), Weakness("stats", 1.5, 2))
    assert report.weakest_tags == (Weakness("math", 0.0, 1), Weakness("optim", 1.5, 2))
    assert report.study_next == (
        Suggestion("drill study nets", "1 of 2 in this deck"),
        Suggestion("drill study --tag math", "0 of 1 with this tag"),
        Suggestion("drill gen param-count -n 5", "five fresh exercises like the one missed"),
        Suggestion("drill show stats/c", "reread the model answer"),
    )
    assert report.to_dict()["results"][1] == {
        "number": 2,
        "key": "nets/b",
        "kind": "compute",
        "seed": 7,
        "rating": "again",
        "correct": False,
        "points": 0.0,
        "seconds": 95,
    }


def test_the_time_budget_ends_the_interview() -> None:
    clock = Clock()
    asked = [question(i, basic(f"q{i}", "interview")) for i in (1, 2, 3)]
    mock = Interview(asked, budget_seconds=60, clock=clock)
    first = mock.next_question()
    clock.now += 45
    assert mock.time_left() == 15
    mock.answer(first, Rating.GOOD)
    second = mock.next_question()
    clock.now += 20  # over budget while answering: this answer still counts
    assert mock.time_left() == 0
    mock.answer(second, Rating.GOOD)
    assert mock.next_question() is None
    report = mock.report()
    assert (report.time_up, len(report.results), report.planned, report.seconds) == (
        True,
        2,
        3,
        65,
    )


def test_answers_come_in_order_and_quitting_drops_the_open_question() -> None:
    clock = Clock()
    asked = [question(i, basic(f"q{i}", "interview")) for i in (1, 2)]
    mock = Interview(asked, clock=clock)
    mock.next_question()
    with pytest.raises(ValueError, match="question 2 is not the one being asked"):
        mock.answer(asked[1], Rating.GOOD)
    mock.quit()
    assert mock.next_question() is None
    assert mock.report().results == ()
    with pytest.raises(ValueError, match="positive"):
        Interview(asked, budget_seconds=0)


def test_with_a_session_each_answer_is_a_review(tmp_path) -> None:
    asked = [question(1, compute("c")), question(2, basic("q", "interview"))]
    with Store(tmp_path / "drill.db") as store:
        session = Session(store, [q.card for q in asked], Config(), rng=random.Random(0))
        mock = Interview(asked, clock=Clock(), session=session)
        mock.answer(mock.next_question(), Rating.GOOD, typed="12", correct=True)
        mock.answer(mock.next_question(), Rating.AGAIN)
        rows = store.reviews()
    assert [(r.key, r.rating, r.seed, r.answer, r.correct) for r in rows] == [
        ("d/c", Rating.GOOD, 7, "12", True),
        ("d/q", Rating.AGAIN, None, None, None),
    ]
    assert mock.report().recorded


# -- the command, scripted -----------------------------------------------------------------

DECK = textwrap.dedent(
    """\
    id: mine
    title: Mine
    cards:
      - id: two-passes
        q: Name the two passes of backpropagation.
        a: The forward pass computes the loss; the backward pass its gradients.
        tags: [interview]
      - id: chain-rule
        q: Which rule of calculus does the backward pass apply?
        a: The chain rule.
        tags: [interview, calculus]
      - id: not-asked
        q: A card without the interview tag.
        a: Never asked.
      - id: conv
        type: compute
        generator: conv-output-size
      - id: params
        type: compute
        generator: param-count
    """
)


@pytest.fixture
def deck_dir(tmp_path, monkeypatch):
    folder = tmp_path / "decks"
    folder.mkdir()
    (folder / "mine.yaml").write_text(DECK, encoding="utf-8")
    monkeypatch.setenv("DRILL_DECKS", str(folder))
    return folder


def planned(seed: int, count: int) -> list[Question]:
    """The questions `drill interview mine --seed S -n N` asks, drawn as the command does."""
    collection = load_collection()
    return pick_questions(
        select_cards(collection, ["mine"]), collection.tags_of, count, random.Random(seed)
    )


def script(questions: list[Question]) -> tuple[str, dict[str, str]]:
    """Piped input: first compute answer right, second wrong; questions scored y, then 2."""
    lines, verdicts = [], {}
    scores = iter(["y", "2"])
    computed = 0
    for q in questions:
        if q.is_compute:
            truth = make(q.card.generator, q.seed, q.card.params).answer
            right = computed == 0
            lines.append(str(truth if right else truth + 1))
            verdicts[q.card.key] = "right" if right else "wrong"
            computed += 1
        else:
            score = next(scores)
            lines += ["my own words", score]
            verdicts[q.card.key] = {"y": "good", "2": "hard"}[score]
    return "\n".join(lines) + "\n", verdicts


def run(*args: str, input: str):
    return CliRunner().invoke(app, ["interview", "mine", *args], input=input)


@pytest.mark.usefixtures("deck_dir")
def test_scripted_interview_reports_and_records_nothing(drill_home) -> None:
    questions = planned(seed=5, count=4)
    assert sorted(q.card.id for q in questions) == ["chain-rule", "conv", "params", "two-passes"]
    text, verdicts = script(questions)
    result = run("--seed", "5", "-n", "4", input=text)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Question 1 of 4" in out and "Question 4 of 4" in out
    assert "The chain rule." in out  # the model answer is shown before self-scoring
    assert "Score: 2.5 / 4" in out
    for q in questions:
        row = next(
            line for line in out.splitlines() if line.startswith(f"{q.number}  {q.card.key} ")
        )
        assert row.rstrip().endswith(verdicts[q.card.key]), row
    assert "Study next" in out
    assert "Nothing was recorded" in out
    # the database was not even created
    assert not (drill_home / "drill.db").exists()


@pytest.mark.usefixtures("deck_dir")
def test_scripted_interview_with_record_logs_each_answer() -> None:
    questions = planned(seed=11, count=4)
    text, verdicts = script(questions)
    result = run("--seed", "11", "-n", "4", "--record", input=text)
    assert result.exit_code == 0, result.output
    assert "Every answer was recorded as a review." in result.output
    with Store.open() as store:
        rows = store.reviews()
    assert [r.key for r in rows] == [q.card.key for q in questions]
    expected_rating = {"right": Rating.GOOD, "wrong": Rating.AGAIN, "good": Rating.GOOD}
    expected_rating["hard"] = Rating.HARD
    for row, q in zip(rows, questions, strict=True):
        assert row.rating == expected_rating[verdicts[q.card.key]]
        assert row.seed == q.seed
        assert row.correct == ({"right": True, "wrong": False}.get(verdicts[q.card.key]))


@pytest.mark.usefixtures("deck_dir")
def test_quitting_at_once_answers_nothing() -> None:
    result = run("--seed", "1", input="q\n")
    assert result.exit_code == 0, result.output
    assert "No question was answered." in result.output


@pytest.mark.usefixtures("deck_dir")
def test_an_unreadable_compute_answer_is_asked_again() -> None:
    lines = []
    for q in planned(seed=3, count=2):  # one compute exercise, one question
        if q.is_compute:
            truth = make(q.card.generator, q.seed, q.card.params).answer
            lines += ["twelve", str(truth)]
        else:
            lines += ["", "y"]
    result = run("--seed", "3", "-n", "2", input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    assert "Could not read that" in result.output
    assert "Score: 2 / 2 (100%)" in result.output
    assert "Nothing missed." in result.output


def test_no_interview_cards_is_one_clean_error(deck_dir) -> None:
    plain = "id: plain\ntitle: Plain\ncards:\n  - {id: a, q: A?, a: A., tags: [maths]}\n"
    (deck_dir / "plain.yaml").write_text(plain, encoding="utf-8")
    result = CliRunner().invoke(app, ["interview", "plain", "--tag", "maths"], input="")
    assert result.exit_code == 1
    assert "Error: no interview questions here" in result.output
