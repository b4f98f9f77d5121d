"""A mock interview: a timed, random mix of interview questions and compute exercises.

Pure logic, no terminal: `pick_questions` draws the questions with an injected rng,
`Interview` times and scores the answers with an injected clock, and `Interview.report`
sums it up: the score, the time per question, the weakest decks and tags, and what to
study next. The schedule changes only when a Session is given (`drill interview
--record`); answers are then recorded through it exactly as in `drill study`.

Scoring: Good or Easy (or a right compute answer) earns a point, Hard half a point,
Again (or a wrong or missing compute answer) nothing.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from drill.model import Card, CardType, Rating

if TYPE_CHECKING:
    import random

    from drill.exercises.base import Exercise
    from drill.review.session import Session

INTERVIEW_TAG = "interview"
WEAKEST = 3
STUDY_NEXT = 6
POINTS = {Rating.AGAIN: 0.0, Rating.HARD: 0.5, Rating.GOOD: 1.0, Rating.EASY: 1.0}


@dataclass(frozen=True)
class Question:
    number: int  # 1-based position in the interview
    card: Card
    tags: tuple[str, ...]  # the card's tags and its deck's
    seed: int | None = None  # compute cards: the seed of this interview's exercise

    @property
    def is_compute(self) -> bool:
        return self.card.type is CardType.COMPUTE


@dataclass(frozen=True)
class Result:
    question: Question
    rating: Rating
    seconds: float
    typed: str | None = None
    correct: bool | None = None  # compute answers only
    became_leech: bool = False  # with --record: this answer made the card a leech

    @property
    def points(self) -> float:
        return POINTS[self.rating]

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.question.number,
            "key": self.question.card.key,
            "kind": self.question.card.type.value,
            "seed": self.question.seed,
            "rating": self.rating.name.lower(),
            "correct": self.correct,
            "points": self.points,
            "seconds": round(self.seconds, 1),
        }


@dataclass(frozen=True)
class Weakness:
    """A deck or tag and how the interview's questions from it went."""

    name: str
    points: float
    questions: int

    @property
    def share(self) -> float:
        return self.points / self.questions

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "points": self.points, "questions": self.questions}


@dataclass(frozen=True)
class Suggestion:
    command: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"command": self.command, "reason": self.reason}


@dataclass(frozen=True)
class Report:
    results: tuple[Result, ...]
    # Questions drawn; fewer are answered if the time ran out or the user quit. None when
    # the interview ran until the time was up (--minutes without --count): then the
    # questions drawn are a pool to draw on, not a plan.
    planned: int | None
    seconds: float
    time_up: bool
    recorded: bool
    weakest_decks: tuple[Weakness, ...]
    weakest_tags: tuple[Weakness, ...]
    study_next: tuple[Suggestion, ...]
    unanswered: Question | None = None  # on screen when the time ran out: not scored

    @property
    def score(self) -> float:
        return sum(result.points for result in self.results)

    @property
    def share(self) -> float | None:
        return self.score / len(self.results) if self.results else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "answered": len(self.results),
            "planned": self.planned,
            "seconds": round(self.seconds, 1),
            "time_up": self.time_up,
            "unanswered": self.unanswered.number if self.unanswered else None,
            "recorded": self.recorded,
            "results": [result.to_dict() for result in self.results],
            "weakest_decks": [w.to_dict() for w in self.weakest_decks],
            "weakest_tags": [w.to_dict() for w in self.weakest_tags],
            "study_next": [s.to_dict() for s in self.study_next],
        }


# -- choosing the questions ---------------------------------------------------------------


def generator_available(name: str | None) -> bool:
    """Whether the generator's module is installed (checked without importing numpy)."""
    from drill.exercises.registry import GENERATORS

    info = GENERATORS.get(name or "")
    return info is not None and importlib.util.find_spec(info.module) is not None


def pick_questions(
    cards: Sequence[Card],
    tags_of: Callable[[Card], tuple[str, ...]],
    count: int,
    rng: random.Random,
    can_make: Callable[[str | None], bool] = generator_available,
) -> list[Question]:
    """Up to `count` questions: half compute exercises, half cards tagged `interview`
    (the other kind fills in when one runs short), in random order."""
    if count < 1:
        raise ValueError("an interview needs at least one question")
    asked = [c for c in cards if c.type is CardType.BASIC and INTERVIEW_TAG in tags_of(c)]
    compute = [c for c in cards if c.type is CardType.COMPUTE and can_make(c.generator)]
    n_compute = min(len(compute), count // 2)
    n_asked = min(len(asked), count - n_compute)
    n_compute = min(len(compute), count - n_asked)
    chosen = rng.sample(asked, n_asked) + rng.sample(compute, n_compute)
    rng.shuffle(chosen)
    return [
        Question(
            number=number,
            card=card,
            tags=tags_of(card),
            seed=rng.randrange(2**31) if card.type is CardType.COMPUTE else None,
        )
        for number, card in enumerate(chosen, start=1)
    ]


def exercise_for(question: Question) -> Exercise:
    """The exercise a compute question asks, rebuilt from its seed."""
    from drill.exercises import make

    if not question.is_compute or question.seed is None:
        raise ValueError(f"{question.card.key} is not a compute question")
    return make(question.card.generator or "", question.seed, question.card.params)


# -- running it ---------------------------------------------------------------------------


class Interview:
    """Hands out the questions one at a time, times each, and keeps the results."""

    def __init__(
        self,
        questions: Sequence[Question],
        *,
        budget_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        session: Session | None = None,
        until_time_is_up: bool = False,
    ) -> None:
        if budget_seconds is not None and budget_seconds <= 0:
            raise ValueError("the time budget must be positive")
        if until_time_is_up and budget_seconds is None:
            raise ValueError("an interview until the time is up needs a time budget")
        self.questions = list(questions)
        self.budget = budget_seconds
        self.until_time_is_up = until_time_is_up  # the questions are a pool, not a plan
        self._unanswered: Question | None = None
        self.clock = clock
        self.session = session
        self.results: list[Result] = []
        self._started: float | None = None
        self._asked_at: float | None = None
        self._ended: float | None = None
        self._time_up = False

    def next_question(self) -> Question | None:
        """The next question, or None when all are answered, the user quit, or time is up."""
        if self._ended is not None:
            return None
        if self.budget is not None and self.time_left() == 0:
            self._time_up = True
            return self._end()
        if len(self.results) >= len(self.questions):
            return self._end()
        question = self.questions[len(self.results)]
        now = self.clock()
        if self._started is None:
            self._started = now
        self._asked_at = now
        return question

    def elapsed(self) -> float:
        """Seconds since the current question was shown."""
        return 0.0 if self._asked_at is None else self.clock() - self._asked_at

    def time_left(self) -> float | None:
        """Seconds left of the budget (None without one); never negative."""
        if self.budget is None:
            return None
        if self._started is None:
            return self.budget
        return max(0.0, self.budget - (self.clock() - self._started))

    def answer(
        self,
        question: Question,
        rating: Rating,
        *,
        typed: str | None = None,
        correct: bool | None = None,
    ) -> Result:
        """Score the current question; with a session, record it as a review too."""
        expected = len(self.results)
        if expected >= len(self.questions) or self.questions[expected] != question:
            raise ValueError(f"question {question.number} is not the one being asked")
        seconds = self.elapsed()
        became_leech = False
        if self.session is not None:
            answered = self.session.answer(
                question.card,
                rating,
                duration_ms=round(seconds * 1000),
                seed=question.seed,
                typed=typed,
                correct=correct,
            )
            became_leech = answered.became_leech
        result = Result(question, rating, seconds, typed, correct, became_leech)
        self.results.append(result)
        self._asked_at = None
        return result

    def quit(self) -> None:
        """End early; the question on screen, if any, goes unscored."""
        self._end()

    def expire(self) -> None:
        """The time ran out while the current question was open: it ends the interview
        unanswered (not wrong), and the report says so."""
        if self._asked_at is not None and self._ended is None:
            self._unanswered = self.questions[len(self.results)]
        self._time_up = True
        self._end()

    def report(self) -> Report:
        end = self._ended if self._ended is not None else self.clock()
        results = tuple(self.results)
        decks = _weakest(results, lambda r: (r.question.card.deck_id,))
        tags = _weakest(results, lambda r: tuple(t for t in r.question.tags if t != INTERVIEW_TAG))
        return Report(
            results=results,
            planned=None if self.until_time_is_up else len(self.questions),
            seconds=0.0 if self._started is None else end - self._started,
            time_up=self._time_up,
            recorded=self.session is not None,
            weakest_decks=decks,
            weakest_tags=tags,
            study_next=study_next(results, decks, tags),
            unanswered=self._unanswered,
        )

    def _end(self) -> None:
        if self._ended is None:
            self._ended = self.clock()
        return None


def _weakest(
    results: Sequence[Result], groups: Callable[[Result], Iterable[str]]
) -> tuple[Weakness, ...]:
    """The groups with something missed, worst share first (more questions break ties)."""
    points: dict[str, float] = {}
    counts: dict[str, int] = {}
    for result in results:
        for name in groups(result):
            points[name] = points.get(name, 0.0) + result.points
            counts[name] = counts.get(name, 0) + 1
    weak = [Weakness(name, points[name], counts[name]) for name in counts]
    weak = [w for w in weak if w.points < w.questions]
    weak.sort(key=lambda w: (w.share, -w.questions, w.name))
    return tuple(weak[:WEAKEST])


def study_next(
    results: Sequence[Result], decks: Sequence[Weakness], tags: Sequence[Weakness]
) -> tuple[Suggestion, ...]:
    """A short list of commands to run next: the weakest deck and tag, then practice for
    each compute generator missed and a reread of each question missed."""
    suggestions = [
        Suggestion(f"drill study {w.name}", f"{_score(w)} in this deck") for w in decks[:1]
    ]
    suggestions += [
        Suggestion(f"drill study --tag {w.name}", f"{_score(w)} with this tag")
        for w in tags[:1]
        if w.name not in {d.name for d in decks[:1]}
    ]
    missed = [r for r in results if r.points < 1]
    generators = dict.fromkeys(r.question.card.generator for r in missed if r.question.is_compute)
    suggestions += [
        Suggestion(f"drill gen {name} -n 5", "five fresh exercises like the one missed")
        for name in generators
    ]
    suggestions += [
        Suggestion(f"drill show {r.question.card.key}", "reread the model answer")
        for r in missed
        if not r.question.is_compute
    ]
    return tuple(suggestions[:STUDY_NEXT])


def _score(weakness: Weakness) -> str:
    return f"{weakness.points:g} of {weakness.questions}"
