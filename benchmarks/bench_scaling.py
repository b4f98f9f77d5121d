"""drill on a large home beside drill on a small one: due, the first card, one review.

    python benchmarks/bench_scaling.py [--sizes 1000,100000] [-n 9] [--keep DIR] [--before TREE]

The daily commands should cost what is due, not what exists. For each size it builds a
home with make_collection.py (N cards in 50 synthetic decks, 50 N reviews: 50,000 for
1,000 cards, 5 million for 100,000), the built-in decks beside them as in any home. The
first size is the baseline: each other size is timed against it, whole processes in
turn (big, small, big, small, ...), each ratio taken pair by pair, so that a machine
whose speed drifts moves both sides of a pair alike. The commands, as a user types them:

    due         `drill due`
    first card  `drill study`, quit at the first card (input "q")
    one review  `drill study`, reveal, grade Good, quit at the next card ("", "3", "q")

It prints, per command, the medians of the pairs' wall and CPU (user + system of the
child) ratios, the medians of each side, and each side's largest peak resident memory.
With --before TREE (an older drill: `git archive COMMIT drill | tar -x -C TREE`), that
drill runs too, on both homes, in the same rounds: its own ratio, and this drill's time
on the big home over its.

Like for like. A session's first card is whichever is due first: on one home it may be a
compute card (NumPy, an exercise generator) and on the other a plain one, which would
time NumPy, not the collection; one review also shows the next card. So before timing,
while either of a home's first two cards is not a plain card, its first card is answered
Good (untimed, and kept). Every timed run's cards are read from what it printed, and the
script stops if one shows another kind of card. Each timed review is checked (exactly
one review recorded, of the card shown) and then taken back with drill's own undo,
untimed, so that every run of a home starts from the same state and shows the same card.

With --keep DIR the homes are kept in DIR and reused by later runs of the same sizes
(the 100,000-card home takes one and a half to two minutes to build); otherwise they go
in a temporary folder, deleted at the end. drill runs from this checkout (`python -m
drill`, the checkout on PYTHONPATH), from another folder, with a bytecode cache as an
installed drill has: bench_vs_anki.py's runner.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCHMARKS))

import bench_vs_anki  # noqa: E402  (beside this script; it puts the checkout on sys.path)

MIB = 1024 * 1024
TASKS = {  # name: (row label, drill's arguments, its input, cards it shows)
    "due": ("due", ["due"], b"", 0),
    "first": ("first card", ["study"], b"q\n", 1),
    # Reveal (a compute card: show the solution), grade Good, quit at the next question.
    "review": ("one review", ["study"], b"\n3\nq\n", 2),
}
PLAIN = "Question"  # a plain card's question panel (drill.ui.card_view)
MAX_SETTLE = 60  # first cards answered at most, per home, to bring two plain cards first
# The study screen shows each card as a rule holding its key, then its question's panel;
# a typed-answer card, whose panel is a plain card's, then prompts for the answer.
_TITLE = re.compile(r"^─+ (\S+) ─+$", re.MULTILINE)
_PANEL = re.compile(r"^╭─ (.+?) ─", re.MULTILINE)
_PROMPT = "answer>"


@dataclass(frozen=True)
class Run:
    """One finished child: wall and CPU seconds, peak resident MiB, what it printed."""

    wall: float
    cpu: float
    peak: float
    output: str

    def shown(self) -> list[tuple[str, str]]:
        """(key, kind) of each card a study run showed, in order: the kind is the title
        of the card's question panel ("Question" for a plain card, "Compute", ...)."""
        titles = list(_TITLE.finditer(self.output))
        cards = []
        for number, title in enumerate(titles):
            end = titles[number + 1].start() if number + 1 < len(titles) else len(self.output)
            panel = _PANEL.search(self.output, title.end(), end)
            kind = panel.group(1) if panel else "?"
            if kind == PLAIN and _PROMPT in self.output[title.end() : end]:
                kind = "typed answer"
            cards.append((title.group(1), kind))
        return cards


class Runner(bench_vs_anki.Runner):
    """bench_vs_anki's environment (this checkout, or the tree `drill` of another, and a
    bytecode cache), with each child's resource use and output kept."""

    def __init__(self, scratch: Path, tree: Path | None = None) -> None:
        super().__init__(scratch)
        if tree is not None:
            self.env["PYTHONPATH"] = str(tree)

    def measure(self, args: list[str], typed: bytes, home: Path) -> Run:
        """One run of `args` in `home`, `typed` as its input. (A child's peak memory
        counts the process it was started from, this one, some 20 MiB: no peak reads
        below that.)"""
        env = dict(self.env, DRILL_HOME=str(home))
        with tempfile.TemporaryFile() as errors:
            start = time.perf_counter()
            child = subprocess.Popen(
                args,
                env=env,
                cwd=self.scratch,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
            )
            child.stdin.write(typed)  # a few bytes: within the pipe's buffer
            child.stdin.close()
            output = child.stdout.read()
            child.stdout.close()
            _, status, usage = os.wait4(child.pid, 0)
            wall = time.perf_counter() - start
            child.returncode = os.waitstatus_to_exitcode(status)
            if child.returncode:
                errors.seek(0)
                message = errors.read().decode(errors="replace")[-800:]
                raise RuntimeError(f"{' '.join(args)} failed ({child.returncode}): {message}")
        cpu = usage.ru_utime + usage.ru_stime
        peak = usage.ru_maxrss * 1024 / MIB  # KiB on Linux
        return Run(wall, cpu, peak, output.decode(errors="replace"))

    def drill(self, task: str, home: Path) -> Run:
        _, args, typed, _ = TASKS[task]
        return self.measure([sys.executable, "-m", "drill", *args], typed, home)


@dataclass
class Series:
    """A task's timed runs on the big home and on the baseline home, pair by pair."""

    big: list[Run]
    small: list[Run]

    def ratio(self, field: str) -> float:
        return paired(self.big, self.small, field)

    def sides(self, field: str, scale: float, form: str, of=statistics.median) -> str:
        """ "big / small": `of` (the median) each side's `field`, times `scale`."""
        values = (of(getattr(run, field) for run in runs) for runs in (self.big, self.small))
        return " / ".join(form.format(value * scale) for value in values)


def paired(runs: list[Run], against: list[Run], field: str) -> float:
    """The median of the ratios of `field`, run by run (the two lists ran in turn)."""
    pairs = zip(runs, against, strict=True)
    return statistics.median(getattr(a, field) / getattr(b, field) for a, b in pairs)


# -- the homes -----------------------------------------------------------------------------


def prepare(folder: Path, cards: int, seed: int) -> Path:
    """The home of `cards` cards (50 reviews each), built unless kept from an earlier run.

    make_collection.py runs as a child: a child's peak memory counts what it was forked
    from, so this process stays small (NumPy and the history's arrays are not in it)."""
    home, done = folder / f"drill-{cards}", folder / f"built-{cards}"
    if done.exists() and (home / "drill.db").exists():
        return home
    shutil.rmtree(home, ignore_errors=True)
    reviews = cards * bench_vs_anki.REVIEWS_PER_CARD
    started = time.perf_counter()
    build = [sys.executable, str(BENCHMARKS / "make_collection.py"), "--home", str(home)]
    build += ["--cards", str(cards), "--reviews", str(reviews), "--seed", str(seed)]
    subprocess.run(build, check=True, stdout=subprocess.DEVNULL)
    print(
        f"built {cards:,} cards, {reviews:,} reviews in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    done.touch()
    return home


def newest_review(home: Path) -> tuple[int, str | None]:
    """The newest review's id and key: the log is append-only (an undo is recorded
    elsewhere), so a run that recorded one review moved the id on by one."""
    # Read-write, closed at once: a read-only connection may not remove the write-ahead
    # log's files when it closes, and the store opened next (take_back) then failed.
    with closing(sqlite3.connect(home / "drill.db")) as db:
        row = db.execute("SELECT id, key FROM review_log ORDER BY id DESC LIMIT 1").fetchone()
    return row or (0, None)


def take_back(home: Path, review_id: int, key: str) -> None:
    """Undo one review as the study screen's `u` does: the card's state before returns."""
    from drill.review.store import Store

    with Store(home / "drill.db") as store:
        store.undo(review_id, datetime.now(UTC), key=key)


def settle(runner: Runner, home: Path) -> list[tuple[str, str]]:
    """Answer (Good, kept) the first card a session shows until its first two cards are
    plain ones; those two, their review taken back."""
    for _ in range(MAX_SETTLE):
        before = newest_review(home)[0]
        shown = runner.drill("review", home).shown()
        review_id, key = newest_review(home)
        if review_id != before + 1 or not shown or key != shown[0][0]:
            raise SystemExit(f"{home}: a study session recorded no review of {shown[:1]}")
        if len(shown) == 2 and all(kind == PLAIN for _, kind in shown):
            take_back(home, review_id, key)
            return shown
        print(f"{home.name}: answered {shown[0][0]}, for two plain cards first", file=sys.stderr)
    raise SystemExit(f"{home}: no two plain cards first after {MAX_SETTLE} answers")


# -- timing --------------------------------------------------------------------------------


def time_task(runners: list[Runner], task: str, homes: tuple[Path, Path], n: int) -> list[Series]:
    """`n` rounds after two warm-up rounds, each runner's drill on the big home then on
    the baseline home in each; every run checked: the cards it showed are plain ones,
    and it recorded what it claims."""
    label, args, _, cards = TASKS[task]
    results = [Series([], []) for _ in runners]
    for number in range(n + 2):
        for runner, series in zip(runners, results, strict=True):
            for home, runs in zip(homes, (series.big, series.small), strict=True):
                before = newest_review(home)
                run = runner.drill(task, home)
                shown = run.shown()[:cards]
                if len(shown) != cards or any(kind != PLAIN for _, kind in shown):
                    raise SystemExit(f"{home}: {label} showed {shown}, not {cards} plain cards")
                if task == "review":
                    review_id, key = newest_review(home)
                    if review_id != before[0] + 1 or key != shown[0][0]:
                        raise SystemExit(
                            f"{home}: a review run recorded {review_id - before[0]} reviews"
                            f" (the newest of {key}), not one of {shown[0][0]}"
                        )
                    take_back(home, review_id, key)
                elif newest_review(home) != before:
                    raise SystemExit(f"{home}: `drill {' '.join(args)}` recorded a review")
                if number >= 2:  # two rounds warm up: the day's backup, the OS caches
                    runs.append(run)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="1000,100000", help="cards, comma-separated; the first is the baseline"
    )
    parser.add_argument("-n", type=int, default=9, help="timed pairs of each command (default 9)")
    parser.add_argument("--keep", type=Path, help="keep the homes in this folder")
    parser.add_argument("--seed", type=int, default=1, help="seed of the collections")
    parser.add_argument(
        "--before",
        type=Path,
        help="also time this tree's drill (git archive COMMIT drill | tar -x -C DIR) in each round",
    )
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    if len(sizes) < 2 or min(sizes) < 50 or args.n < 1:
        parser.error("give a baseline size and at least one more (50 cards or more), and n >= 1")
    scratch = Path(tempfile.mkdtemp(prefix="drill-scaling-"))
    folder = args.keep.resolve() if args.keep else scratch / "homes"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        runners = [Runner(scratch)]
        if args.before:
            runners.append(Runner(scratch, args.before.resolve()))
        homes = {cards: prepare(folder, cards, args.seed) for cards in sizes}
        firsts = {cards: settle(runners[0], home) for cards, home in homes.items()}
        results = {}
        for cards in sizes[1:]:
            pair = (homes[cards], homes[sizes[0]])
            results[cards] = {task: time_task(runners, task, pair, args.n) for task in TASKS}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print_table(sizes[0], results, firsts, args.n, args.before)


def print_table(base: int, results: dict, firsts: dict, n: int, before: Path | None) -> None:
    print(
        f"drill at N cards ÷ drill at {base:,} cards (50 reviews a card): whole processes, "
        f"medians of {n} interleaved pairs; {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )
    for cards, shown in firsts.items():
        listed = " then ".join(f"{key} ({kind.lower()})" for key, kind in shown)
        print(f"  {cards:,} cards: the session shows {listed}")
    for cards, tasks in results.items():
        print()
        print(
            f"{cards:,} ÷ {base:,} cards".ljust(24)
            + f"{'wall':>6}{'CPU':>8}{'wall ms':>16}{'CPU ms':>14}{'peak MiB':>13}"
        )
        for task, (ours, *older) in tasks.items():
            print(_row(TASKS[task][0], ours))
            if older:
                print(_row("  before", older[0]))
                wall, cpu = (paired(ours.big, older[0].big, f) for f in ("wall", "cpu"))
                print(f"{f'  ÷ before, {cards:,}':<24}{wall:>5.2f}x{cpu:>7.2f}x")
    if before:
        print(f"\nbefore: {before}")


def _row(label: str, series: Series) -> str:
    wall, cpu = (series.sides(field, 1000, "{:.0f}") for field in ("wall", "cpu"))
    peaks = series.sides("peak", 1, "{:.0f}", max)
    return (
        f"{label:<24}{series.ratio('wall'):>5.2f}x{series.ratio('cpu'):>7.2f}x"
        f"{wall:>16}{cpu:>14}{peaks:>13}"
    )


if __name__ == "__main__":
    main()
