"""Grading a run: each test passes or fails, and the first failure is explained.

A returned value is compared with the expected one in this order: the kind of value (an
array, a number, a tuple of the right length), its shape, its dtype where integers are
asked, then its entries within the exercise's tolerance. The first failure gets the
details a person needs: the input shapes, the expected and received values (trimmed),
which entry differs and by how much, and a known slip when the received value is exactly
what that slip produces (a missing max-subtraction, a forgotten 1/N, a transposed W, a sign
flip, a mask applied after the softmax…).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from drill.exercises.base import Tolerance
from drill.exercises.code.harness import Foreign
from drill.exercises.code.runner import Outcome, Run
from drill.exercises.code.spec import Case, CodeExercise, Function

_PRINT = {
    "precision": 4,
    "threshold": 12,
    "edgeitems": 2,
    "max_line_width": 88,
    "separator": ", ",
    "suppress_small": True,
}
_SHOWN_LINES = 6


@dataclass(frozen=True)
class Difference:
    """How one returned value differs from the expected one."""

    what: str  # one line: "shape (3, 1), expected (3,)", "2 of 12 entries differ; …"
    output: str | None = None  # which returned value ("dW"), when several are returned
    expected: Any = None
    received: Any = None

    @property
    def line(self) -> str:
        return f"{self.output}: {self.what}" if self.output else self.what


@dataclass(frozen=True)
class TestResult:
    number: int  # 1-based
    label: str
    passed: bool
    problem: str = ""  # one line: why it failed
    ran: bool = True  # False for the tests after a crash or a timeout


@dataclass(frozen=True)
class Report:
    exercise: str
    seed: int
    tests: tuple[TestResult, ...]
    cannot_run: str | None = None  # why the file could not be run at all
    details: tuple[str, ...] = ()  # about the first failure
    output: str = ""  # what the code printed, trimmed

    @property
    def passed(self) -> int:
        return sum(test.passed for test in self.tests)

    @property
    def total(self) -> int:
        return len(self.tests)

    @property
    def all_passed(self) -> bool:
        return self.cannot_run is None and self.passed == self.total

    @property
    def exit_code(self) -> int:
        """0 when every test passes, 1 when any fails, 2 when the file cannot be run."""
        if self.cannot_run is not None:
            return 2
        return 0 if self.all_passed else 1

    @property
    def answer_text(self) -> str:
        """What the review log keeps as the answer: "7/8 passed", or why nothing ran."""
        if self.cannot_run is not None:
            return f"0/{self.total} passed (cannot run)"
        return f"{self.passed}/{self.total} passed"

    def lines(self) -> list[str]:
        """The report as text: a line per test, the first failure's details, the output."""
        head = f"{self.exercise}, seed {self.seed}: {self.total} tests"
        if self.cannot_run is not None:
            lines = [head, f"Cannot run the file: {self.cannot_run}"]
        else:
            lines = [head, *(_test_line(test) for test in self.tests)]
            lines.append(f"{self.passed}/{self.total} passed.")
        if self.details:
            lines += ["", *self.details]
        if self.output.strip():
            lines += ["", "Printed output:", *("  " + line for line in self.output.splitlines())]
        return lines


def _test_line(test: TestResult) -> str:
    mark = "✓" if test.passed else ("✗" if test.ran else "·")
    line = f"  {mark} test {test.number}: {test.label}"
    return f"{line} — {test.problem}" if test.problem else line


# -- grading a run ---------------------------------------------------------------------------


def grade(exercise: CodeExercise, cases: Sequence[Case], run: Run, seed: int) -> Report:
    """The report of `run` against the cases it was given."""
    if not run.runnable:
        return Report(
            exercise.name,
            seed,
            tuple(TestResult(i, case.label, False, ran=False) for i, case in enumerate(cases, 1)),
            cannot_run=_load_problem(run),
            output=run.output,
        )
    tests: list[TestResult] = []
    details: tuple[str, ...] = ()
    for number, case in enumerate(cases, 1):
        if number - 1 < len(run.outcomes):
            outcome = run.outcomes[number - 1]
            difference = _difference(exercise, case, outcome)
            if difference is None:
                tests.append(TestResult(number, case.label, True))
                continue
            tests.append(TestResult(number, case.label, False, difference.line))
            if not details:
                details = _details(exercise, case, number, outcome, difference)
        elif number - 1 == len(run.outcomes):  # the test during which the process stopped
            problem = run.stopped or "the process stopped"
            tests.append(TestResult(number, case.label, False, problem))
            if not details:
                details = (f"Test {number} ({case.label}): {problem}.", *_inputs(exercise, case))
        else:
            tests.append(TestResult(number, case.label, False, "not run", ran=False))
    return Report(exercise.name, seed, tuple(tests), details=details, output=run.output)


def _load_problem(run: Run) -> str:
    if run.load_error is not None:
        error = run.load_error
        where = f" ({error['where']})" if error.get("where") else ""
        return f"{error.get('type', 'Error')}: {error.get('message', '')}{where}"
    return run.stopped or "the process ended before loading the file"


def _difference(exercise: CodeExercise, case: Case, outcome: Outcome) -> Difference | None:
    if outcome.error is not None:
        error = outcome.error
        where = f" at {error['where']}" if error.get("where") else ""
        return Difference(f"raised {error.get('type')}: {error.get('message')}{where}")
    return compare(exercise, case.expected, outcome.value)


def compare(exercise: CodeExercise, expected: Any, received: Any) -> Difference | None:
    """None when `received` passes, else how it differs from `expected`."""
    tolerance = exercise.tolerance
    if not exercise.returns_tuple:
        what = compare_value(expected, received, tolerance)
        return Difference(what, None, expected, received) if what else None
    names = ", ".join(exercise.outputs)
    if received is None:
        return Difference("returned None (is a `return` missing?)")
    if isinstance(received, list):  # `return [dx, dW, db]` returns the values all the same
        received = tuple(received)
    if not isinstance(received, tuple):
        return Difference(f"returned {kind_of(received)}; expected a tuple ({names})")
    if len(received) != len(exercise.outputs):
        count = len(exercise.outputs)
        return Difference(f"returned {len(received)} values; expected {count} ({names})")
    for name, want, got in zip(exercise.outputs, expected, received, strict=True):
        what = compare_value(want, got, tolerance)
        if what:
            return Difference(what, name, want, got)
    return None


def compare_value(expected: Any, received: Any, tolerance: Tolerance) -> str | None:
    """Why `received` is not `expected` (an array or a number), in one line; None if it is."""
    want = np.asarray(expected)
    if received is None:
        return "returned None (is a `return` missing?)"
    if isinstance(received, Foreign | tuple | list):
        return f"returned {kind_of(received)}; expected {describe_array(want)}"
    got = np.asarray(received)
    if got.shape != want.shape:
        return f"{_shape_text(got.shape)}; expected {_shape_text(want.shape)}"
    if want.dtype.kind in "iub":
        if got.dtype.kind not in "iub":
            return f"dtype {got.dtype}; expected integers"
        wrong = got != want
    else:
        with np.errstate(all="ignore"):
            wrong = ~np.isclose(got, want, rtol=tolerance.rel, atol=tolerance.abs)
    if not wrong.any():
        return None
    return _entries_text(want, got, wrong)


def kind_of(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, Foreign):
        return f"a {value.kind}"
    if isinstance(value, tuple | list):
        return f"a {type(value).__name__} of {len(value)}"
    return describe_array(np.asarray(value))


def describe_array(array: np.ndarray) -> str:
    if array.ndim == 0:
        return f"a number ({array.dtype})"
    return f"an array of shape {array.shape} ({array.dtype})"


def _shape_text(shape: tuple[int, ...]) -> str:
    return "a number (shape ())" if shape == () else f"shape {shape}"


def _entries_text(want: np.ndarray, got: np.ndarray, wrong: np.ndarray) -> str:
    count, total = int(wrong.sum()), wrong.size
    bad_float = ~np.isfinite(got) & np.isfinite(want) if got.dtype.kind == "f" else wrong & False
    if bad_float.any():
        where = tuple(int(i) for i in np.argwhere(bad_float)[0])
    else:
        with np.errstate(all="ignore"):
            gap = np.where(wrong, np.abs(got.astype(np.float64) - want), -1.0)
        where = tuple(int(i) for i in np.unravel_index(int(np.argmax(gap)), want.shape))
    expected_at, received_at = want[where], got[where]
    at = f" at [{', '.join(map(str, where))}]" if where else ""
    text = f"expected {_number(expected_at)}, received {_number(received_at)}"
    if np.isfinite(received_at) and np.isfinite(expected_at) and want.dtype.kind == "f":
        text += f" (off by {_number(abs(float(received_at) - float(expected_at)))})"
    if want.ndim == 0:
        return text
    largest = "" if bad_float.any() or count == 1 else ", the largest difference"
    verb = "differs" if count == 1 else "differ"
    return f"{count} of {total} entries {verb}{largest}{at}: {text}"


def _number(value: Any) -> str:
    if isinstance(value, np.integer | int) or np.asarray(value).dtype.kind in "iub":
        return str(int(value))
    return f"{float(value):.6g}"


# -- the first failure, in detail -----------------------------------------------------------


def _details(
    exercise: CodeExercise, case: Case, number: int, outcome: Outcome, difference: Difference
) -> tuple[str, ...]:
    lines = [f"First failure: test {number}, {case.label}", *_inputs(exercise, case)]
    if outcome.error is None and difference.expected is not None:
        label = f" {difference.output}" if difference.output else ""
        lines.append(f"  expected{label}:")
        lines += _shown(difference.expected)
        lines.append(f"  received{label}:")
        lines += _shown(difference.received)
    lines.append(f"  what differs: {difference.line}")
    slip = diagnose(exercise, case, outcome.value, difference) if outcome.error is None else None
    if slip:
        lines.append(f"  likely slip: {slip}")
    if outcome.warnings:
        lines.append(f"  warnings: {'; '.join(outcome.warnings)}")
    return tuple(lines)


def _inputs(exercise: CodeExercise, case: Case) -> list[str]:
    parts = []
    for name, value in zip(exercise.arguments, case.args, strict=False):
        if isinstance(value, Function):
            parts.append(f"{name} = {value.label}")
        elif isinstance(value, bool | int | float):
            parts.append(f"{name} = {value!r}")
        else:
            array = np.asarray(value)
            parts.append(f"{name}: {array.dtype} {array.shape}")
    return [f"  inputs: {', '.join(parts)}"]


def _shown(value: Any) -> list[str]:
    """A value printed compactly, at most a few lines: arrays trimmed in the middle."""
    if value is None or isinstance(value, Foreign | tuple | list):
        text = kind_of(value) if not isinstance(value, Foreign) else f"{value.kind}: {value.text}"
    else:
        array = np.asarray(value)
        text = f"{np.array2string(array, **_PRINT)}  ({array.dtype}, shape {array.shape})"
    lines = text.splitlines()
    if len(lines) > _SHOWN_LINES:
        lines = [*lines[: _SHOWN_LINES - 1], "…"]
    return ["    " + line for line in lines]


def diagnose(
    exercise: CodeExercise, case: Case, received: Any, difference: Difference
) -> str | None:
    """A known slip that explains the received value, or None."""
    with np.errstate(all="ignore"):
        for slip in exercise.slips:
            try:
                if slip.output is not None:
                    args = [a.build() if isinstance(a, Function) else a for a in case.args]
                    mistaken = slip.output(*args)
                    # The slip must explain the difference: in a case where it gives the
                    # right answer anyway, matching it says nothing.
                    if _same(mistaken, received, exercise.tolerance) and not _same(
                        mistaken, case.expected, exercise.tolerance
                    ):
                        return slip.message
                if slip.matches is not None and slip.matches(case, received):
                    return slip.message
            except Exception:  # a slip that cannot be worked out for this case: not this one
                continue
        return generic_slip(difference, case.batch, exercise.tolerance)


def _same(slip: Any, received: Any, tolerance: Tolerance) -> bool:
    """Whether `received` is what the slip gives; None parts of the slip match anything."""
    if slip is None:
        return True
    if isinstance(slip, tuple):
        return (
            isinstance(received, tuple)
            and len(received) == len(slip)
            and all(_same(s, r, tolerance) for s, r in zip(slip, received, strict=True))
        )
    if received is None or isinstance(received, Foreign | tuple | list):
        return False
    want, got = np.asarray(slip), np.asarray(received)
    if want.shape != got.shape:
        return False
    if want.dtype.kind in "iub" and got.dtype.kind in "iub":
        return bool(np.array_equal(want, got))
    return bool(np.allclose(got, want, rtol=tolerance.rel, atol=tolerance.abs, equal_nan=True))


def generic_slip(difference: Difference, batch: int | None, tolerance: Tolerance) -> str | None:
    """Slips that any exercise can show: a transpose, an extra axis, a sign, a factor."""
    if difference.expected is None or difference.received is None:
        return None
    if isinstance(difference.received, Foreign | tuple | list):
        return None
    want = np.asarray(difference.expected, dtype=np.float64)
    got = np.asarray(difference.received)
    if got.dtype.kind not in "iubf":
        return None
    got = got.astype(np.float64)
    name = difference.output or "the result"
    close = {"rtol": tolerance.rel, "atol": tolerance.abs}
    transposed = want.ndim == 2 and got.shape == want.T.shape and want.shape != want.T.shape
    if transposed and np.allclose(got, want.T, **close):
        return f"{name} is transposed: it has shape {got.shape}, the transpose of {want.shape}"
    if got.shape != want.shape:
        if got.size == want.size and np.allclose(got.reshape(want.shape), want, **close):
            return (
                f"{name} has the right values in shape {got.shape} instead of {want.shape} "
                "(keepdims=True, or a column where a vector is asked?)"
            )
        return None
    if not np.isfinite(got).all() and np.isfinite(want).all():
        return (
            f"{name} holds nan or inf where every expected value is finite: an overflow "
            "(exp of a large number) or a division by zero"
        )
    if np.any(np.abs(want) > tolerance.abs) and np.allclose(got, -want, **close):
        return f"{name} has the wrong sign"
    return _factor(name, want, got, batch, tolerance)


def _factor(
    name: str, want: np.ndarray, got: np.ndarray, batch: int | None, tolerance: Tolerance
) -> str | None:
    significant = np.abs(want) > max(tolerance.abs * 1e3, 1e-12)
    if not significant.any():
        return None
    ratios = got[significant] / want[significant]
    factor = float(ratios[0])
    if not np.allclose(ratios, factor, rtol=1e-6) or np.isclose(factor, 1.0) or factor == 0:
        return None
    if batch and batch > 1 and np.isclose(factor, batch):
        return f"{name} is N = {batch} times too large: a forgotten 1/N of the mean over the batch?"
    if batch and batch > 1 and np.isclose(factor, 1 / batch):
        return f"{name} is N = {batch} times too small: divided by N twice?"
    return f"{name} is off by a constant factor of {factor:.6g}"
