"""How fast drill starts, beside the floor any Typer and Rich tool pays.

    python benchmarks/bench_startup.py [-n 40]

Times `drill --help` and `drill due` (on the built-in decks, in a fresh DRILL_HOME) and
the baseline `python -c "import typer, rich, yaml"`, interleaved, `-n` runs each, and
reports medians and each command's ratio to the baseline (the target is at most 1.3x).

Every child runs with a bytecode cache (PYTHONPYCACHEPREFIX in a temporary folder), as
an installed drill has, and the home is prepared first: `drill due` makes the database
on its first run and fills the deck cache on its second, so the timed runs are the
every-morning case.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 1.3
BASELINE = [sys.executable, "-c", "import typer, rich, yaml"]


def drill_command() -> list[str]:
    """The `drill` script beside this Python (what users run), else `python -m drill`."""
    script = Path(sys.executable).with_name("drill")
    return [sys.executable, str(script)] if script.exists() else [sys.executable, "-m", "drill"]


def child_env(home: Path, pycache: Path) -> dict[str, str]:
    env = dict(os.environ, DRILL_HOME=str(home), PYTHONPYCACHEPREFIX=str(pycache))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # a user's drill has its bytecode cached
    env.pop("DRILL_DECKS", None)
    return env


def run(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True
    )
    return time.perf_counter() - start


def measure(commands: dict[str, list[str]], env: dict[str, str], n: int) -> dict[str, float]:
    """Median seconds per command; the commands take turns, so load hits them alike."""
    for command in commands.values():  # warm-up: bytecode, home, OS caches
        for _ in range(3):
            run(command, env)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(n):
        for name, command in commands.items():
            times[name].append(run(command, env))
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=40, help="runs of each command (default 40)")
    args = parser.parse_args()
    drill = drill_command()
    commands = {
        "baseline: import typer, rich, yaml": BASELINE,
        "drill --help": [*drill, "--help"],
        "drill due": [*drill, "due"],
    }
    folder = Path(tempfile.mkdtemp(prefix="drill-bench-"))
    try:
        home = folder / "home"
        home.mkdir()
        medians = measure(commands, child_env(home, folder / "pycache"), args.n)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"start-up, median of {args.n} runs each, interleaved; {os.cpu_count()} cores")
    print(f"Python {platform.python_version()}, {platform.machine()}, {' '.join(drill[1:])}")
    print()
    base = medians["baseline: import typer, rich, yaml"]
    print(f"{'command':<36}{'median':>9}{'ratio':>8}{'target':>8}")
    for name, seconds in medians.items():
        ratio = seconds / base
        verdict = "" if name.startswith("baseline") else ("ok" if ratio <= TARGET else "OVER")
        print(f"{name:<36}{seconds * 1000:>7.0f}ms{ratio:>7.2f}x{verdict:>8}")


if __name__ == "__main__":
    main()
