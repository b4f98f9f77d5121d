"""Keeping the slips a grader can name: wrong under the exercise's own tolerance.

A generator lists the wrong answers a typical mistake gives. A slip that lands within the
tolerance of the answer would be graded right, and one within the tolerance of an earlier
slip would never be named (the grader names the first that matches): both are dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from drill.exercises.base import Tolerance
from drill.exercises.common import extras_wanted
from drill.exercises.grading import close


def telling_slips(
    slips: Mapping[str, Any], answer: Any, tolerance: Tolerance | None = None
) -> dict[str, Any]:
    """The slips, as plain numbers or nested lists, that `tolerance` tells apart.

    With an exact tolerance, whole-number slips become ints like the answer; none at all
    while exercises are made without extras (drill.exercises.common.without_extras)."""
    if not extras_wanted():
        return {}
    tolerance = tolerance or Tolerance()
    kept: dict[str, Any] = {}
    for description, value in slips.items():
        plain = np.asarray(value, dtype=np.float64)
        if not np.all(np.isfinite(plain)):
            continue
        if plain.ndim:
            value = (plain + 0.0).tolist()
        elif tolerance.exact and float(plain).is_integer():
            value = int(plain)
        else:
            value = float(plain)
        seen = [answer, *kept.values()]
        if all(np.shape(value) != np.shape(v) or not close(value, v, tolerance) for v in seen):
            kept[description] = value
    return kept
