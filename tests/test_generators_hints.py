"""The "Useful value(s)" line of `hand` questions, for every generator.

At difficulty hand the numbers must be workable with pen and paper, so a question lists
the values a person would need a calculator for. These tests read that line back.
"""

from __future__ import annotations

import functools

import pytest

from drill.exercises import Difficulty, Exercise, make, registry

SEEDS = range(40)
HINT_HEADINGS = ("Useful value: ", "Useful values: ")


@functools.cache
def exercise(name: str, seed: int, params: tuple = (), difficulty=Difficulty.HAND) -> Exercise:
    return make(name, seed, dict(params), difficulty)


def hint_lines(question: str) -> list[str]:
    return [line for line in question.splitlines() if line.startswith("Useful value")]


def listed_values(question: str) -> dict[str, float]:
    """{label: value} from the question's "Useful value(s): a ≈ 1, b ≈ 2." line."""
    lines = hint_lines(question)
    if not lines:
        return {}
    (line,) = lines
    listed = line.split(": ", 1)[1]
    entries = [entry.rsplit(" ≈ ", 1) for entry in listed.removesuffix(".").split(", ")]
    return {label: float(value) for label, value in entries}


@pytest.mark.parametrize("name", registry.names())
def test_the_heading_agrees_in_number_with_the_values_it_lists(name):
    for seed in SEEDS:
        question = exercise(name, seed).question
        for line in hint_lines(question):
            assert line.startswith(HINT_HEADINGS), line
            count = line.count(" ≈ ")
            assert line.startswith("Useful value: " if count == 1 else "Useful values: "), line
            assert len(listed_values(question)) == count, line


@pytest.mark.parametrize("name", registry.names())
def test_calc_questions_list_no_values(name):
    for seed in range(10):
        assert not hint_lines(exercise(name, seed, difficulty=Difficulty.CALC).question)
