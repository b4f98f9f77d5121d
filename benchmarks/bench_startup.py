"""How fast drill starts, beside the floor any Typer and Rich tool pays.

    python benchmarks/bench_startup.py [-n 40]

Times `drill --help`, `drill due` in a home used before (the every-morning case) and
`drill due` in a brand-new home (its first run: the database is created and the
built-in decks read), with the baseline `python -c "import typer, rich, yaml"`,
interleaved, `-n` runs each; reports medians and each command's ratio to the baseline
(targets: 1.3x, and 1.4x for the brand-new home).

drill runs as the wheel installs it: this checkout's package is copied to a temporary
folder with the built-in decks beside it (`drill/_builtin_decks`) and their parsed table
(`python -m drill.decks.prebuilt`, what the wheel's build hook runs), and the children
start from another folder, so the checkout itself is not imported. Every child runs
with a bytecode cache (PYTHONPYCACHEPREFIX in a temporary folder), as an installed drill
has; the warm-up runs fill it, make the every-morning home's database and fill its deck
cache. Each run of the brand-new home gets a new empty DRILL_HOME.
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
from collections.abc import Callable
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
BASELINE = "baseline: import typer, rich, yaml"
TARGETS = {"drill --help": 1.3, "drill due": 1.3, "drill due, brand-new home": 1.4}


def install_like_wheel(site: Path) -> None:
    """The package as the wheel lays it out, in `site` (a folder for PYTHONPATH)."""
    package = site / "drill"
    shutil.copytree(CHECKOUT / "drill", package, ignore=shutil.ignore_patterns("__pycache__"))
    decks = package / "_builtin_decks"
    shutil.copytree(CHECKOUT / "decks", decks)
    table = decks / "parsed-decks.json"
    subprocess.run(
        [sys.executable, "-m", "drill.decks.prebuilt", str(decks), str(table)],
        env=dict(os.environ, PYTHONPATH=str(site)),
        cwd=site,
        check=True,
    )


def child_env(site: Path, home: Path, pycache: Path) -> dict[str, str]:
    env = dict(os.environ, DRILL_HOME=str(home), PYTHONPYCACHEPREFIX=str(pycache))
    env["PYTHONPATH"] = str(site)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # a user's drill has its bytecode cached
    env.pop("DRILL_DECKS", None)
    return env


def run(command: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True
    )
    return time.perf_counter() - start


Command = tuple[list[str], Callable[[], dict[str, str]]]


def measure(commands: dict[str, Command], cwd: Path, n: int) -> dict[str, float]:
    """Median seconds per command; the commands take turns, so load hits them alike."""
    for command, env in commands.values():  # warm-up: bytecode, home, OS caches
        for _ in range(3):
            run(command, env(), cwd)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(n):
        for name, (command, env) in commands.items():
            times[name].append(run(command, env(), cwd))
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=40, help="runs of each command (default 40)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="drill-bench-"))
    try:
        site, home, pycache = folder / "site", folder / "home", folder / "pycache"
        install_like_wheel(site)
        home.mkdir()
        homes = folder / "new-homes"
        homes.mkdir()

        def used_home() -> dict[str, str]:
            return child_env(site, home, pycache)

        def new_home() -> dict[str, str]:
            return child_env(site, Path(tempfile.mkdtemp(dir=homes)), pycache)

        drill = [sys.executable, "-m", "drill"]
        commands: dict[str, Command] = {
            BASELINE: ([sys.executable, "-c", "import typer, rich, yaml"], used_home),
            "drill --help": ([*drill, "--help"], used_home),
            "drill due": ([*drill, "due"], used_home),
            "drill due, brand-new home": ([*drill, "due"], new_home),
        }
        medians = measure(commands, folder, args.n)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"start-up, median of {args.n} runs each, interleaved; {os.cpu_count()} cores")
    print(f"Python {platform.python_version()}, {platform.machine()}, drill laid out as the wheel")
    print()
    base = medians[BASELINE]
    print(f"{'command':<36}{'median':>9}{'ratio':>8}{'target':>8}")
    for name, seconds in medians.items():
        ratio = seconds / base
        target = TARGETS.get(name)
        verdict = "" if target is None else ("ok" if ratio <= target else "OVER")
        print(f"{name:<36}{seconds * 1000:>7.0f}ms{ratio:>7.2f}x{verdict:>8}")


if __name__ == "__main__":
    main()
