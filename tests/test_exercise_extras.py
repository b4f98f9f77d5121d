"""Exercises made without extras (as an export makes them): no slips, no guided steps,
and otherwise the very exercise a study session gets."""

from __future__ import annotations

import dataclasses

import pytest

from drill.exercises import make, names
from drill.exercises.base import Difficulty
from drill.exercises.common import extras_wanted, without_extras


@pytest.mark.parametrize("name", names())
def test_without_extras_only_slips_and_steps_are_left_out(name):
    for difficulty in Difficulty:
        for seed in (0, 1, 2):
            full = make(name, seed, {}, difficulty)
            lean = make(name, seed, {}, difficulty, extras=False)
            assert lean.slips == {} and lean.steps == ()
            assert lean == dataclasses.replace(full, slips={}, steps=())


def test_some_generators_have_extras_to_leave_out():
    made = [make(name, 3, {}, Difficulty.HAND) for name in ("mlp-backward", "rnn-bptt")]
    assert all(exercise.slips and exercise.steps for exercise in made)


def test_extras_come_back_after_a_lean_exercise_even_one_that_fails():
    with pytest.raises(RuntimeError), without_extras():
        assert not extras_wanted()
        raise RuntimeError
    assert extras_wanted()
    make("mlp-backward", 1, {}, Difficulty.HAND, extras=False)
    assert make("mlp-backward", 1, {}, Difficulty.HAND).slips
