"""drill on a large collection: due, the study loop, stats and deck parsing, with baselines.

    python benchmarks/make_collection.py --home DIR      # once: 20,000 cards, 1M reviews
    python benchmarks/bench_collection.py --home DIR [-n 9]

Prints one row per figure: the median of `-n` runs, a baseline measured in the same run
(what the same work costs without drill, or at the small scale), and the target from
the issue. The commands run as a user runs them, with DRILL_HOME=DIR and a bytecode
cache; in-process figures call drill's own classes. Reviews are recorded into a copy of
the database, so DIR stays as make_collection left it (but for its deck cache and the
day's backup, which `drill due` makes as it always does).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

# This checkout's drill, not a copy installed in the environment (which may be older).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drill.decks.cache import DeckCache
from drill.decks.loader import deck_files, load_collection, load_sources
from drill.home.config import load_config
from drill.model import Rating
from drill.review.session import Session
from drill.review.store import Store

MIB = 1024 * 1024
SMALL = "drill due, built-in decks only"
STATES = "store.cards(): every card state"
COMMIT = "SQLite INSERT + COMMIT, WAL, FULL"
PLAIN_YAML = "yaml.load (C), no checks"


@dataclass(frozen=True)
class Row:
    figure: str
    value: float
    unit: str  # "ms" or "MiB"
    baseline: float | None
    baseline_what: str
    target: float | None

    def line(self) -> str:
        verdict = "" if self.target is None else ("ok" if self.value <= self.target else "OVER")
        target = "" if self.target is None else f"<= {self.target:g} {self.unit}"
        base = "" if self.baseline is None else f"{self.baseline:>9.1f} {self.unit:<4}"
        return (
            f"{self.figure:<44}{self.value:>9.1f} {self.unit:<4}"
            f"{base:>14}{self.baseline_what:<38}{target:>14} {verdict}"
        )


# -- running drill as a user does ------------------------------------------------------------


class Runner:
    """Runs commands in child processes with a home and a bytecode cache."""

    def __init__(self, scratch: Path) -> None:
        self.pycache = scratch / "pycache"
        self.scratch = scratch
        # This checkout's drill (on PYTHONPATH, started from another folder), not the
        # `drill` script of the environment, which runs whatever copy was installed last.
        self.drill = [sys.executable, "-m", "drill"]

    def env(self, home: Path) -> dict[str, str]:
        env = dict(os.environ, DRILL_HOME=str(home), PYTHONPYCACHEPREFIX=str(self.pycache))
        env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.pop("DRILL_DECKS", None)
        return env

    def run(self, args: list[str], home: Path, typed: bytes = b"") -> tuple[float, float]:
        """(wall seconds, peak resident MiB) of one run of `args`, `typed` as its input."""
        start = time.perf_counter()
        child = subprocess.Popen(
            args,
            env=self.env(home),
            cwd=self.scratch,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if child.stdin is not None:  # always, with stdin=PIPE
            child.stdin.write(typed)
            child.stdin.close()
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode:
            raise RuntimeError(f"{' '.join(args)} failed with exit code {child.returncode}")
        return seconds, usage.ru_maxrss * 1024 / MIB  # ru_maxrss is in KiB on Linux

    def median(
        self, args: list[str], home: Path, n: int, typed: bytes = b""
    ) -> tuple[float, float]:
        """(median seconds, largest peak MiB) over n runs, after one warm-up run."""
        self.run(args, home, typed)
        runs = [self.run(args, home, typed) for _ in range(n)]
        return statistics.median(s for s, _ in runs), max(m for _, m in runs)


def median_ms(work: Callable[[], object], n: int) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


# -- the figures -------------------------------------------------------------------------------


def command_rows(runner: Runner, home: Path, small: Path, n: int) -> list[Row]:
    first, _ = runner.run([*runner.drill, "due"], home)  # the day's first: backup, deck cache
    due, peak = runner.median([*runner.drill, "due"], home, n)
    small_due, small_peak = runner.median([*runner.drill, "due"], small, n)
    floor, _ = runner.median([sys.executable, "-c", "import typer, rich, yaml"], home, n)
    rows = [
        Row("drill due", due * 1000, "ms", small_due * 1000, SMALL, 500),
        Row("drill due, peak memory", peak, "MiB", small_peak, SMALL, 150),
        Row("  (floor: import typer, rich, yaml)", floor * 1000, "ms", None, "", None),
        Row("  (first run: backup of the day, if due)", first * 1000, "ms", None, "", None),
    ]
    # Input "q": the session starts, shows its first card, and ends at once.
    study, study_peak = runner.median([*runner.drill, "study"], home, n, typed=b"q\n")
    rows.append(
        Row(
            "drill study, start to first card (then q)",
            study * 1000,
            "ms",
            due * 1000,
            "drill due",
            None,
        )
    )
    rows.append(Row("drill study, peak memory", study_peak, "MiB", peak, "drill due", 150))
    has_stats = [*runner.drill, "stats", "--help"]
    ran = subprocess.run(has_stats, env=runner.env(home), cwd=runner.scratch, capture_output=True)
    if ran.returncode == 0:
        stats, _ = runner.median([*runner.drill, "stats"], home, max(3, n // 3))
        scan = _log_scan_ms(home / "drill.db", 3)
        rows.append(
            Row("drill stats", stats * 1000, "ms", scan, "one pass over the review log", 2000)
        )
    return rows


def _log_scan_ms(database: Path, n: int) -> float:
    db = sqlite3.connect(database)
    try:
        # Reads every row, as a naive query for any figure would: what the indexes avoid.
        return median_ms(
            lambda: db.execute("SELECT sum(duration_ms) FROM review_log").fetchone(), n
        )
    finally:
        db.close()


def session_rows(home: Path, scratch: Path, n: int) -> list[Row]:
    os.environ["DRILL_HOME"] = str(home)
    cards = load_collection().cards()
    config = load_config()
    copy = scratch / "drill.db"
    with sqlite3.connect(home / "drill.db") as source, sqlite3.connect(copy) as target:
        source.backup(target)  # the reviews below go into this copy
    with Store(copy) as store:
        read_states = median_ms(store.cards, n)
        start = median_ms(lambda: Session(store, cards, config).next_card(), n)
        session = Session(store, cards, config)
        answer_times, next_times = [], []
        for _ in range(n):
            card = session.next_card()
            if card is None:
                break
            session.outcomes(card)  # shown with the answer, before the grade is typed
            answer_times.append(median_ms(lambda c=card: session.answer(c, Rating.GOOD), 1))
            next_times.append(median_ms(lambda: (session.next_card(), session.remaining()), 1))
    commit = _commit_ms(scratch / "floor.db", n)
    next_card, answer = statistics.median(next_times), statistics.median(answer_times)
    return [
        Row("study: session start + first card", start, "ms", read_states, STATES, 50),
        Row("study: next card (+ remaining counts)", next_card, "ms", read_states, STATES, 50),
        Row("study: record a review (with commit)", answer, "ms", commit, COMMIT, 10),
    ]


def _commit_ms(path: Path, n: int) -> float:
    """The floor of a durable write: one small row and its commit, as the store commits."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("CREATE TABLE t (x)")

    def write() -> None:
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO t VALUES (1)")
        db.execute("COMMIT")

    try:
        return median_ms(write, n)
    finally:
        db.close()


def parse_rows(home: Path, scratch: Path, n: int) -> list[Row]:
    files = deck_files([home / "decks"])
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    plain = median_ms(lambda: [yaml.load(f.read_bytes(), Loader=loader) for f in files], 3)
    runs = max(3, n // 3)
    cold_times, warm_times = [], []
    for run in range(runs):
        cache_file = scratch / f"cache-{run}.db"
        cold_times.append(median_ms(lambda c=cache_file: _load(home, c), 1))
        warm_times.append(median_ms(lambda c=cache_file: _load(home, c), 1))
    cards = sum(len(d.cards) for d in _load(home, scratch / "cache-0.db").decks)
    label = f"{len(files)} files, {cards:,} cards"
    cold, warm = statistics.median(cold_times), statistics.median(warm_times)
    return [
        Row(f"decks, cold parse ({label})", cold, "ms", plain, PLAIN_YAML, None),
        Row("decks, warm (from the cache)", warm, "ms", plain, PLAIN_YAML, None),
    ]


def _load(home: Path, cache_file: Path):
    with DeckCache(cache_file) as cache:
        return load_sources([home / "decks"], cache=cache)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True, help="a home from make_collection.py")
    parser.add_argument("-n", type=int, default=9, help="runs per figure (default 9)")
    args = parser.parse_args()
    home = args.home.resolve()
    if not (home / "drill.db").exists() or not (home / "decks").is_dir():
        sys.exit(f"{home} is not a collection; make one with benchmarks/make_collection.py")
    scratch = Path(tempfile.mkdtemp(prefix="drill-bench-"))
    try:
        small = scratch / "small-home"
        small.mkdir()
        runner = Runner(scratch)
        rows = command_rows(runner, home, small, args.n)
        rows += session_rows(home, scratch, args.n)
        rows += parse_rows(home, scratch, args.n)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    with sqlite3.connect(home / "drill.db") as db:
        reviews = db.execute("SELECT count(*) FROM review_log").fetchone()[0]
    print(
        f"collection {home}: {reviews:,} reviews; median of {args.n} runs; {os.cpu_count()} cores"
    )
    print()
    print(f"{'figure':<44}{'median':>14}{'baseline':>14} {'(what)':<37}{'target':>15}")
    for row in rows:
        print(row.line())


if __name__ == "__main__":
    main()
