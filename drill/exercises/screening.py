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
- `first_accepted_choice`: the same for draws of distinct integers,
  `rng.choice(population, size, replace=False)`, which NumPy makes from 32-bit words of
  the generator one at a time (Floyd's sampling, then a shuffle); here those words are
  drawn for a block of draws at once and the same steps taken on all of them together.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import TypeVar

import numpy as np

from drill.exercises.common import GRID, MAX_TRIES, NoAcceptableDraw, resample

T = TypeVar("T")
R = TypeVar("R")

BLOCK = 64  # grid rows drawn and judged at once: one or two blocks for most exercises
# Distinct draws judged at once: a block costs about the same at 64 rows as at 128, and
# sampling's hand draws (one in 31 passes) then need a second block once in 60 times.
CHOICE_BLOCK = 128


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


_WORD = np.uint64(0xFFFFFFFF)
MAX_POPULATION = 10_000


def first_accepted_choice(
    rng: np.random.Generator,
    population: int,
    size: int,
    accepted: Callable[[np.ndarray], np.ndarray],
    tries: int,
) -> np.ndarray:
    """The first of up to `tries` draws of `rng.choice(population, size, replace=False)`
    that `accepted` passes (it judges each row of a (k, size) block of draws), leaving
    `rng` where the loop of single draws leaves it.

    NumPy's choice (no replacement, no weights, a small population) takes `size` bounded
    integers for Floyd's algorithm and `size − 1` more for the shuffle, each from one
    32-bit word by Lemire's method: a word `u` gives `(u · n) >> 32` for a bound n, unless
    its low half falls under `2³² mod n`, when another word is taken (a chance of n in
    2³², under 10⁻⁸ here). So a block of draws takes a known number of words; in the
    very rare block where a word would have been taken again, the draws are made one by
    one instead (a test compares both with NumPy, values and generator state)."""
    if not 0 < size < population <= MAX_POPULATION:
        # The whole population (whose first step takes no word) and large populations
        # (NumPy shuffles those whole) are drawn otherwise.
        raise ValueError(f"draws {size} of {population} values: not a small draw")
    words = 2 * size - 1
    judged = 0
    while judged < tries:
        rows = min(CHOICE_BLOCK, tries - judged)
        before = rng.bit_generator.state
        block = rng.integers(0, 1 << 32, size=(rows, words), dtype=np.uint32).astype(np.uint64)
        draws, redrawn = _floyd_then_shuffle(block, population, size)
        passed = np.flatnonzero(accepted(draws))
        stop = int(passed[0]) + 1 if passed.size else rows
        if redrawn[:stop].any():  # a word taken again: the rows are not what NumPy drew
            rng.bit_generator.state = before
            return _one_at_a_time(rng, population, size, accepted, tries - judged)
        if passed.size:
            rng.bit_generator.state = before
            rng.integers(0, 1 << 32, size=stop * words, dtype=np.uint32)  # the loop's words
            return draws[stop - 1].copy()
        judged += rows
    raise NoAcceptableDraw(f"no acceptable draw in {tries} tries")


def _floyd_then_shuffle(
    words: np.ndarray, population: int, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """What NumPy's choice draws from each row of `words`, and whether a row has a word
    whose Lemire bound would have asked for another."""
    bounds, thresholds = _bounds(population, size)
    scaled = words * bounds  # each word times its step's bound, as a 64-bit product
    redrawn = ((scaled & _WORD) < thresholds).any(axis=1)
    values = (scaled >> np.uint64(32)).astype(np.int64)  # an integer below each bound
    # Floyd: for j = population − size … population − 1, a value in [0, j], or j itself
    # when that value was drawn already.
    draws = values[:, :size].copy()
    for column in range(1, size):
        taken = (draws[:, :column] == draws[:, column, None]).any(axis=1)
        draws[taken, column] = population - size + column
    # Fisher-Yates from the last place down: place i swaps with a place in [0, i].
    every = np.arange(len(draws))
    for column, place in enumerate(range(size - 1, 0, -1), start=size):
        other = values[:, column]
        held = draws[:, place].copy()
        draws[:, place] = draws[every, other]
        draws[every, other] = held
    return draws, redrawn


@functools.cache
def _bounds(population: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """For each word of a draw: the bound of its integer (j + 1 for Floyd's j, i + 1 for
    the shuffle's place i), and 2³² mod that bound, under which Lemire's method draws
    again."""
    tops = [*range(population - size, population), *range(size - 1, 0, -1)]
    bounds = np.array([top + 1 for top in tops], dtype=np.uint64)
    thresholds = np.array([(1 << 32) % (top + 1) for top in tops], dtype=np.uint64)
    return bounds, thresholds


def _one_at_a_time(
    rng: np.random.Generator,
    population: int,
    size: int,
    accepted: Callable[[np.ndarray], np.ndarray],
    tries: int,
) -> np.ndarray:
    def acceptable(draw: np.ndarray) -> bool:
        return bool(accepted(draw[None, :])[0])

    return resample(
        rng, lambda r: r.choice(population, size=size, replace=False), acceptable, tries
    )
