"""How fast mlp-backward exercises are made, beside a plain NumPy forward pass.

    python benchmarks/bench_gen.py [-n 1000] [--repeat 3]

For each difficulty it times two loops over the same seeds: `drill` builds complete
exercises (draws, resampling, engine forward and backward, the central-difference
check, question, worked solution and slips); `baseline` draws a network of the same
shape from the same seed and runs one NumPy forward pass through it. The best of
`--repeat` runs is reported, so the figures are repeatable on a quiet machine.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable

import numpy as np

from drill.exercises import Difficulty, make


def drill_loop(n: int, difficulty: Difficulty) -> None:
    for seed in range(n):
        exercise = make("mlp-backward", seed, difficulty=difficulty)
        if not exercise.solution:  # the worked solution is part of what is timed
            raise RuntimeError(f"seed {seed}: no worked solution")


def baseline_loop(n: int, difficulty: Difficulty) -> None:
    # The shapes hand exercises use by default; calc ones are at most this size plus one.
    n_in, n_hidden, n_out = (2, 2, 1) if difficulty is Difficulty.HAND else (3, 3, 2)
    for seed in range(n):
        rng = np.random.default_rng(seed)
        x = rng.uniform(-2, 2, n_in)
        W1, b1 = rng.uniform(-1.5, 1.5, (n_hidden, n_in)), rng.uniform(-1, 1, n_hidden)
        W2, b2 = rng.uniform(-1.5, 1.5, (n_out, n_hidden)), rng.uniform(-1, 1, n_out)
        y = rng.uniform(-2, 2, n_out)
        z2 = W2 @ np.maximum(W1 @ x + b1, 0.0) + b2
        np.mean((z2 - y) ** 2)


def best_rate(loop: Callable[[int, Difficulty], None], n: int, d: Difficulty, repeat: int):
    loop(min(n, 20), d)  # warm-up: imports and first-call costs are not what we measure
    best = min(_timed(loop, n, d) for _ in range(repeat))
    return n / best


def _timed(loop: Callable[[int, Difficulty], None], n: int, d: Difficulty) -> float:
    start = time.perf_counter()
    loop(n, d)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="exercises per run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per loop; the best counts")
    args = parser.parse_args()
    print(f"mlp-backward, n = {args.n}, best of {args.repeat}")
    print(f"Python {platform.python_version()}, NumPy {np.__version__}, {platform.machine()}")
    print()
    print(f"{'difficulty':<11}{'drill ex/s':>12}{'baseline ex/s':>15}{'ratio':>8}")
    for difficulty in Difficulty:
        ours = best_rate(drill_loop, args.n, difficulty, args.repeat)
        base = best_rate(baseline_loop, args.n, difficulty, args.repeat)
        print(f"{difficulty.value:<11}{ours:>12,.0f}{base:>15,.0f}{base / ours:>7.1f}x")


if __name__ == "__main__":
    main()
