"""Redrawing for less: what `resample` does, without repeating work.

- `resample_keeping`: when judging a draw builds the answer's graph, the accepted draw
  keeps the graph it was judged with instead of building it again.
- `first_accepted`: hand-grid draws judged a block at a time, for generators that redraw
  until a statistic comes out exact (batch and layer norm's σ, RMSNorm's r), which one
  draw in 35 to 150 does. It returns what `resample` of `draw` (by hand) returns and
  leaves the generator where that loop leaves it: NumPy draws a (k, n) block of integers
  as it draws k rows of n one after another, so a block is drawn and judged at once, and
  when a row passes the generator is set back and moved on by exactly the rows the loop
  would have drawn (a test compares the two, values and generator state).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar

import numpy as np

from drill.exercises.common import GRID, MAX_TRIES, NoAcceptableDraw, resample

T = TypeVar("T")
R = TypeVar("R")

BLOCK = 64  # grid rows drawn and judged at once: one or two blocks for most exercises


def resample_keeping(
    rng: np.random.Generator,
    draw_once: Callable[[np.random.Generator], T],
    judge: Callable[[T], tuple[bool, R]],
    tries: int = MAX_TRIES,
) -> tuple[T, R]:
    """The first draw `judge` accepts, and what judging it built."""
    kept: list[R] = []

    def acceptable(candidate: T) -> bool:
        accepted, built = judge(candidate)
        kept[:] = [built]
        return accepted

    return resample(rng, draw_once, acceptable, tries), kept[0]


def first_accepted(
    rng: np.random.Generator,
    size: int,
    low: float,
    high: float,
    accepted: Callable[[np.ndarray], np.ndarray],
    tries: int,
) -> np.ndarray:
    """The first of up to `tries` draws of `size` values on the hand grid in [low, high]
    that `accepted` passes; `accepted` judges every row of a (k, size) block at once."""
    steps = np.arange(math.ceil(low / GRID), math.floor(high / GRID) + 1, dtype=np.float64)
    judged = 0
    while judged < tries:
        rows = min(BLOCK, tries - judged)
        before = rng.bit_generator.state
        block = steps[rng.integers(0, len(steps), size=(rows, size))] * GRID
        passed = np.flatnonzero(accepted(block))
        if passed.size:
            first = int(passed[0])
            rng.bit_generator.state = before
            rng.integers(0, len(steps), size=(first + 1, size))  # the rows the loop draws
            return block[first].copy()
        judged += rows
    raise NoAcceptableDraw(f"no acceptable draw in {tries} tries")
