"""What a code exercise is: a task, a stub, a reference solution and a seeded test builder.

A CodeExercise is a value; each group module (numerics, layers, …) defines a list of them.
Its `cases` builder draws the inputs of every test from a NumPy Generator and computes each
expected output in drill's own process, with drill's engine, so the submission never sees
an expected value and no test case is written by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from drill.exercises.base import Tolerance

# Close enough for two float64 implementations of one formula, far from every slip.
DEFAULT_TOLERANCE = Tolerance(rel=1e-6, abs=1e-9)


@dataclass(frozen=True)
class Function:
    """A function handed to a submission as an argument (the `f` of a gradient check).

    `source` defines `f` in NumPy; `names` are the arrays it reads. The same source is
    compiled in drill's process (for slips) and in the submission's (to be called).
    """

    source: str
    names: Mapping[str, Any] = field(default_factory=dict)
    label: str = "f"

    def build(self) -> Callable[..., Any]:
        import numpy as np

        namespace: dict[str, Any] = {"np": np, **{k: np.array(v) for k, v in self.names.items()}}
        exec(compile(self.source, "<drill function>", "exec"), namespace)
        return namespace["f"]


@dataclass(frozen=True)
class Case:
    """One test: its inputs (positional, in the signature's order) and the expected output."""

    label: str
    args: tuple[Any, ...]
    expected: Any  # an array, a number, or a tuple of them (one per output name)
    batch: int | None = None  # N, so that a factor of N can be named as a forgotten 1/N


@dataclass(frozen=True)
class Slip:
    """A known mistake and how to recognise it.

    `output(*args)` gives what the mistaken code returns for a case (None where a tuple
    part should not be compared); `matches(case, received)` is for slips no single output
    describes. The message says what went wrong and what to do instead.
    """

    message: str
    output: Callable[..., Any] | None = None
    matches: Callable[[Case, Any], bool] | None = None


@dataclass(frozen=True)
class CodeExercise:
    name: str
    title: str
    function: str  # the function a submission defines
    arguments: tuple[str, ...]  # its parameters, in order
    outputs: tuple[str, ...]  # what it returns; several names mean a tuple
    task: str  # Markdown: shapes and conventions stated exactly
    stub: str  # Python: the signature and the docstring
    reference: str  # Python: a solution that passes every seed
    cases: Callable[..., Sequence[Case]]  # cases(rng, **params)
    tolerance: Tolerance = DEFAULT_TOLERANCE
    slips: tuple[Slip, ...] = ()
    params: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    """Accepted card params and their allowed values (as generators declare them)."""

    @property
    def returns_tuple(self) -> bool:
        return len(self.outputs) > 1
