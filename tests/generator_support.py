"""What the generator tests share: exercises built once per seed range, their inputs as
float64 arrays, and the asked derivative recomputed by autograd from the JSON alone."""

from __future__ import annotations

import functools

import numpy as np
from autograd import grad

from drill.exercises import Difficulty, Exercise, make


@functools.cache
def exercises_for(name: str, difficulty: Difficulty, seeds: range) -> tuple[Exercise, ...]:
    """A generator's exercises for `seeds`, built once for all the tests that read them."""
    return tuple(make(name, seed, difficulty=difficulty) for seed in seeds)


def arrays(inputs):
    return {name: np.asarray(value, dtype=np.float64) for name, value in inputs.items()}


def autograd_derivative(loss_fn, exercise: Exercise) -> float:
    """∂(loss_fn)/∂(the asked input) at the asked index, by autograd."""
    p = arrays(exercise.inputs)
    wrt, index = exercise.asked["wrt"], tuple(exercise.asked["index"])
    return float(grad(lambda value: loss_fn({**p, wrt: value}, exercise.spec))(p[wrt])[index])
