"""Small answers are graded to 1%, not to the absolute floor meant for answers near zero."""

from __future__ import annotations

import itertools

from drill.exercises import make
from drill.exercises.base import Tolerance
from drill.exercises.grading import check
from drill.exercises.registry import _scaled_tolerance


def test_default_tolerance_shrinks_for_small_answers() -> None:
    assert _scaled_tolerance(0.0105, Tolerance()) == Tolerance(rel=0.01, abs=0.0105 * 0.01)
    assert _scaled_tolerance([0.002, -0.004], Tolerance()).abs == 0.004 * 0.01
    assert _scaled_tolerance(0.0, Tolerance()) == Tolerance()  # zero still needs a floor
    assert _scaled_tolerance(2.5, Tolerance()) == Tolerance()  # rel already wins
    chosen = Tolerance(rel=0.05, abs=0.01)
    assert _scaled_tolerance(0.001, chosen) == chosen  # a generator's own choice stays


def test_a_rounded_small_answer_is_wrong_and_the_true_one_right() -> None:
    small = next(
        e
        for e in (make("single-neuron", seed) for seed in itertools.count())
        if isinstance(e.answer, float) and 0.002 < abs(e.answer) < 0.009  # 10% off is < 1e-3
    )
    assert check(repr(small.answer), small).correct
    assert check(f"{small.answer * 1.005:.10g}", small).correct
    assert not check(f"{small.answer * 0.9:.10g}", small).correct
    assert not check("0", small).correct
