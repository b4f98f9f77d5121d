"""How fast mlp-backward exercises are made, beside plain NumPy.

    python benchmarks/bench_gen.py [-n 1000] [--repeat 3] [--whole 9]

In-process, for each difficulty it times two loops over the same seeds: `drill` builds
complete exercises (draws, resampling, engine forward and backward, the
central-difference check, question, worked solution, steps and slips); `baseline` draws
a network of the same shape from the same seed and runs one NumPy forward pass through
it. The best of `--repeat` runs is reported.

With `--whole K` it also times whole processes, K of each in turn: `drill gen
mlp-backward -n N --format json` against `benchmarks/numpy_mlp.py -n N`, the same
forward and backward passes in a plain NumPy loop printing JSON (start-up included on
both sides); medians and their ratio. `--before DIR` (repeatable) adds the same `drill
gen` run from another tree holding a `drill` package (an older commit's, e.g. from `git
archive COMMIT drill | tar -x -C DIR`) to each round, so before and after come from one
run.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

# This checkout's drill, not a copy installed in the environment (which may be older).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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


def whole_processes(n: int, runs: int, before: Sequence[Path] = ()) -> dict[str, list[float]]:
    """Seconds of each run of `drill gen` (this checkout's, then each of `before`'s) and
    of the NumPy loop ("numpy"), run in turn, as whole processes."""
    checkout = Path(__file__).resolve().parent.parent
    drill = [sys.executable, "-m", "drill", "gen", "mlp-backward", "-n", str(n), "--format", "json"]
    numpy = [sys.executable, str(checkout / "benchmarks" / "numpy_mlp.py"), "-n", str(n)]
    # Each drill runs from its own tree: `python -m` looks in the working folder first.
    commands = {"drill": (drill, checkout)}
    for tree in before:
        commands[str(tree)] = (drill, tree.resolve())
    commands["numpy"] = (numpy, checkout)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for run in range(runs + 1):  # the first round warms up (and writes the bytecode)
        for name, (command, tree) in commands.items():
            env = dict(os.environ, PYTHONPATH=str(tree))
            env.pop("PYTHONDONTWRITEBYTECODE", None)  # as an installed drill has its bytecode
            start = time.perf_counter()
            subprocess.run(command, cwd=tree, env=env, stdout=subprocess.DEVNULL, check=True)
            if run:
                times[name].append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="exercises per run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per loop; the best counts")
    parser.add_argument("--whole", type=int, default=0, help="whole-process runs of each")
    parser.add_argument(
        "--before", type=Path, action="append", default=[], help="with --whole: also this tree"
    )
    args = parser.parse_args()
    print(f"mlp-backward, n = {args.n}, best of {args.repeat}")
    print(f"Python {platform.python_version()}, NumPy {np.__version__}, {platform.machine()}")
    print()
    print(f"{'difficulty':<11}{'drill ex/s':>12}{'baseline ex/s':>15}{'ratio':>8}")
    for difficulty in Difficulty:
        ours = best_rate(drill_loop, args.n, difficulty, args.repeat)
        base = best_rate(baseline_loop, args.n, difficulty, args.repeat)
        print(f"{difficulty.value:<11}{ours:>12,.0f}{base:>15,.0f}{base / ours:>7.1f}x")
    if args.whole:
        times = whole_processes(args.n, args.whole, args.before)
        numpy_runs = times["numpy"]
        print()
        print(f"whole processes, median of {args.whole} in turn; ratios taken round by round")
        label = f"benchmarks/numpy_mlp.py -n {args.n}"
        print(f"{label:<47} {statistics.median(numpy_runs) * 1000:>7.0f} ms")
        rows = [("drill", f"drill gen mlp-backward -n {args.n} --format json")]
        rows += [(str(tree), f"  the same, from {tree}") for tree in args.before]
        for name, label in rows:
            ms = statistics.median(times[name]) * 1000
            ratio = statistics.median(a / b for a, b in zip(times[name], numpy_runs, strict=True))
            print(f"{label:<47} {ms:>7.0f} ms  {ratio:>5.2f}x (target <= 3x)")


if __name__ == "__main__":
    main()
