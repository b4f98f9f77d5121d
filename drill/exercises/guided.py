"""Guided exercises: the steps of an exercise asked one at a time, checked as typed.

An exercise with `steps` (the forward values, then the backward gradients, then the asked
number) can be worked in order: each typed value is checked against its step; a wrong or
skipped step shows the right value and the rule that gives it, and the work goes on from
the right value. The grade proposed at the end says how far the user got unaided:

    every step right                                   → good
    the first miss after at least half the steps       → hard
    the first miss earlier                             → again

Pure logic: the study screen reads and prints, this module only judges.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from drill.exercises.base import Exercise, Step, Tolerance
from drill.exercises.grading import Verdict, check
from drill.model import Rating


class NoSteps(ValueError):
    """The exercise has no steps to guide through."""


@dataclass(frozen=True)
class StepResult:
    step: Step
    typed: str | None  # None: skipped (shown without an answer)
    verdict: Verdict | None

    @property
    def correct(self) -> bool:
        return bool(self.verdict and self.verdict.correct)


@dataclass
class GuidedRun:
    """The steps of one exercise, answered in order."""

    exercise: Exercise
    results: list[StepResult] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.exercise.steps:
            raise NoSteps(f"{self.exercise.generator} has no steps to guide through")

    @property
    def steps(self) -> tuple[Step, ...]:
        return tuple(self.exercise.steps)

    @property
    def current(self) -> Step | None:
        """The step to answer next, or None when every step has an answer."""
        done = len(self.results)
        return self.steps[done] if done < len(self.steps) else None

    @property
    def position(self) -> int:
        """How many steps are answered."""
        return len(self.results)

    def answer(self, typed: str | None) -> StepResult:
        """Check `typed` against the current step (None or blank: skip it, shown as wrong).

        Raises grading.ParseError, and records nothing, when the text cannot be read.
        """
        step = self.current
        if step is None:
            raise IndexError("every step is answered already")
        if typed is None or not typed.strip():
            result = StepResult(step, None, None)
        else:
            result = StepResult(step, typed, check(typed, self._as_exercise(step)))
        self.results.append(result)
        return result

    def _as_exercise(self, step: Step) -> Exercise:
        """The exercise with this step's value as its answer, for the grader."""
        last = self.position == len(self.steps) - 1
        tolerance = self.exercise.tolerance if last else Tolerance()
        slips = self.exercise.slips if last else {}
        return dataclasses.replace(
            self.exercise, answer=step.value, tolerance=tolerance, slips=slips
        )

    @property
    def first_miss(self) -> int | None:
        """The index of the first step answered wrong or skipped, or None."""
        return next((i for i, r in enumerate(self.results) if not r.correct), None)

    @property
    def correct(self) -> bool:
        """Every step answered, and right."""
        return self.current is None and self.first_miss is None

    @property
    def right(self) -> int:
        return sum(r.correct for r in self.results)

    @property
    def final_typed(self) -> str | None:
        """What was typed for the last step, the asked value (None if it was skipped)."""
        return self.results[-1].typed if self.current is None and self.results else None

    def proposal(self) -> Rating:
        """The grade to propose: good with no miss, hard if the first miss came after at
        least half the steps, again otherwise (an unfinished run counts its missing steps
        as misses)."""
        miss = self.first_miss
        if miss is None and self.current is None:
            return Rating.GOOD
        unaided = self.position if miss is None else miss
        return Rating.HARD if 2 * unaided >= len(self.steps) else Rating.AGAIN
