"""Checking code against an exercise: build the seed's tests, run the code, grade it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from drill.exercises.code import registry
from drill.exercises.code.grading import Report, grade
from drill.exercises.code.runner import (
    DEFAULT_MEMORY_LIMIT,
    DEFAULT_TIME_LIMIT,
    run_file,
    run_source,
)
from drill.exercises.code.spec import Case, CodeExercise


def build_cases(
    exercise: CodeExercise, seed: int, params: Mapping[str, Any] | None = None
) -> list[Case]:
    """The tests of `seed`: the same seed and params always give the same tests."""
    import numpy as np

    params = dict(params or {})
    registry.check_params(exercise.name, params)
    return list(exercise.cases(np.random.default_rng(seed), **params))


def check_file(
    name: str,
    path: Path,
    seed: int,
    params: Mapping[str, Any] | None = None,
    *,
    time_limit: float = DEFAULT_TIME_LIMIT,
    memory_limit: int | None = DEFAULT_MEMORY_LIMIT,
) -> Report:
    """Grade the file at `path`, run in its own process, on the tests of `seed`."""
    exercise = registry.load(name)
    cases = build_cases(exercise, seed, params)
    run = run_file(
        path,
        exercise.function,
        [case.args for case in cases],
        time_limit=time_limit,
        memory_limit=memory_limit,
    )
    return grade(exercise, cases, run, seed)


def check_source(
    exercise: CodeExercise,
    source: str,
    seed: int,
    params: Mapping[str, Any] | None = None,
    cases: list[Case] | None = None,
) -> Report:
    """Grade trusted source (a reference solution) in this process: fast, no limits."""
    cases = cases if cases is not None else build_cases(exercise, seed, params)
    run = run_source(source, exercise.function, [case.args for case in cases])
    return grade(exercise, cases, run, seed)
