"""drill beside Anki on the same collections: due, the first card, one review, stats.

    python benchmarks/bench_vs_anki.py [--sizes 2000,20000,100000] [-n 5] [--keep DIR]

For each size N it builds a drill home with make_collection.py (N cards, 50 N reviews:
100,000 reviews for 2,000 cards, 5 million for 100,000) and an Anki collection holding
the same cards, card states and review log, made through Anki's own Python API (the
`anki` package of the test extra): the notes with Collection.add_notes, then each
studied card's state (FSRS memory state included) and every review row written through
col.db, FSRS switched on. Daily limits are the same on both sides (20 new cards, 200
reviews). Then it times whole processes, drill and Anki in turn, after warm-up runs,
and prints the median of each and drill ÷ Anki:

    due         `drill due`                    open, sched.counts(), sched.deck_due_tree()
    first card  `drill study`, quit at once    open, get_queued_cards(), the question's HTML
    one review  `drill study`, reveal, Good    open, the first card answered Good, close
    stats       `drill stats`                  open, the statistics screen's graphs (1 year)

A review changes the collection on both sides, one card per run. With --keep DIR the
collections are kept in DIR and reused by later runs of the same sizes (the largest
takes a few minutes to build); otherwise they go in a temporary folder, deleted at the end.

drill runs from this checkout (`python -m drill`, the checkout on PYTHONPATH), from
another folder, with a bytecode cache as an installed drill has; Anki from the same
Python, through this script's `--anki TASK COLLECTION` mode, which imports only anki.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
# This checkout's drill builds the collections, not a copy installed in the environment.
sys.path.insert(0, str(CHECKOUT))
REVIEWS_PER_CARD = 50
DAY_S = 86_400
BATCH = 100_000

# The table's rows: what drill runs / what Anki does, as the docstring lists them.
TASKS = {
    "due": "due",
    "first": "first card",
    "review": "one review",
    "stats": "stats",
}
DRILL_COMMANDS = {
    "due": (["due"], b""),
    "first": (["study"], b"q\n"),
    # Reveal (or answer), grade Good, quit at the next question: Anki's side answers one
    # card too. (Until e1b5cfa this also showed the next card's answer, more than Anki did.)
    "review": (["study"], b"\n3\nq\n"),
    "stats": (["stats"], b""),
}


# -- the Anki side, in a child process -----------------------------------------------------


def anki_task(task: str, path: str) -> None:
    """One timed Anki command: open the collection, do `task`, close it."""
    from anki.collection import Collection

    col = Collection(path)
    try:
        if task == "due":
            col.sched.counts()
            col.sched.deck_due_tree()
        elif task in ("first", "review"):
            card = col.sched.getCard()  # get_queued_cards(), as a Card
            if card is None:
                raise SystemExit("nothing is due in the Anki collection")
            card.question()  # the rendered front, as the reviewer shows it
            if task == "review":
                card.answer()
                col.sched.answerCard(card, 3)
        elif task == "stats":
            col._backend.graphs(search="", days=365)  # what the statistics screen asks for
        else:
            raise SystemExit(f"unknown task {task!r}")
    finally:
        col.close()


# -- building the collections ------------------------------------------------------------------


def build_drill(home: Path, cards: int, seed: int) -> None:
    sys.path.insert(0, str(CHECKOUT / "benchmarks"))
    import make_collection

    keys = make_collection.write_decks(home / "decks", cards, 50, random.Random(seed))
    now_ms = round(time.time() * 1000)
    make_collection.write_reviews(home / "drill.db", keys, cards * REVIEWS_PER_CARD, now_ms, seed)


def build_anki(home: Path, path: Path) -> None:
    """The Anki collection holding the drill home's cards, states and review log."""
    from anki.collection import AddNoteRequest, Collection

    from drill.decks.loader import load_sources
    from drill.home.paths import builtin_decks_dir

    loaded = load_sources([builtin_decks_dir(), home / "decks"])  # the decks drill shows
    drill_db = sqlite3.connect(f"file:{home / 'drill.db'}?mode=ro", uri=True)
    first_review = drill_db.execute("SELECT min(reviewed_at) FROM review_log").fetchone()[0]
    col = Collection(str(path))
    try:
        col.set_config("fsrs", True)
        # The collection must be older than its history: its "days" count from crt.
        crt = ((first_review or round(time.time() * 1000)) // 1000 // DAY_S - 2) * DAY_S
        col.crt = crt
        basic = col.models.by_name("Basic")
        keys, requests = [], []
        for deck in loaded.decks:
            deck_id = col.decks.id(f"drill::{deck.id}")
            for card in deck.cards:
                note = col.new_note(basic)
                note["Front"] = card.q or f"A {card.generator} exercise"
                note["Back"] = card.a or "A fresh exercise at each review."
                requests.append(AddNoteRequest(note, deck_id))
                keys.append(card.key)
        for start in range(0, len(requests), 5_000):
            col.add_notes(requests[start : start + 5_000])
        col.decks.select(col.decks.id("drill"))  # study all of them, as `drill study` does
        card_of_note = dict(col.db.all("SELECT nid, id FROM cards"))
        card_ids = {key: card_of_note[req.note.id] for key, req in zip(keys, requests, strict=True)}
        # States and reviews of keys with no note of their own (a cloze deletion, say) are
        # left out: the synthetic decks hold basic and compute cards only.
        states = [row for row in drill_db.execute(_STATES) if row[0] in card_ids]
        rows = [_anki_card(row, card_ids, crt) for row in states]
        col.db.transact(lambda: col.db.executemany(_UPDATE_CARD, rows))
        for batch in _revlog(drill_db, card_ids):
            col.db.transact(lambda batch=batch: col.db.executemany(_INSERT_REVLOG, batch))
    finally:
        col.close()
        drill_db.close()


_STATES = (
    "SELECT key, state, stability, difficulty, due, last_review, reps, lapses, suspended"
    " FROM card_state"
)
_UPDATE_CARD = (
    "UPDATE cards SET type = ?, queue = ?, due = ?, ivl = ?, reps = ?, lapses = ?, left = ?,"
    " data = ? WHERE id = ?"
)
_INSERT_REVLOG = (
    "INSERT INTO revlog (id, cid, usn, ease, ivl, lastIvl, factor, time, type)"
    " VALUES (?, ?, -1, ?, ?, ?, ?, ?, ?)"
)
_FSRS6_DECAY = 0.1542  # FSRS-6's default w20, which Anki keeps per card


def _anki_card(row: tuple, card_ids: dict[str, int], crt: int) -> tuple:
    """A drill card_state row as Anki's cards columns (type, queue, due, ivl, ..., id)."""
    key, state, stability, difficulty, due_ms, last_ms, reps, lapses, suspended = row
    due_s = (due_ms or 0) // 1000
    last_s = (last_ms or 0) // 1000
    if state == 2:  # review: due on a day, counted from crt
        queue, due, ivl, left = 2, (due_s - crt) // DAY_S, max(1, (due_s - last_s) // DAY_S), 0
    else:  # learning or relearning (drill's states are numbered as Anki's types)
        queue, due, ivl, left = 1, due_s, 0, 1
    data = (
        f'{{"s":{stability or 0.1:.4f},"d":{difficulty or 5.0:.3f},"dr":0.9,'
        f'"decay":{_FSRS6_DECAY},"lrt":{last_s}}}'
    )
    return (state, -1 if suspended else queue, due, ivl, reps, lapses, left, data, card_ids[key])


def _revlog(db: sqlite3.Connection, card_ids: dict[str, int]) -> Iterator[list[tuple]]:
    """The review log as Anki revlog rows, in batches; ids are the review times in ms,
    made unique (one per millisecond) as Anki requires."""
    cursor = db.execute(
        "SELECT key, reviewed_at, rating, state_before, state_after, due_after, duration_ms,"
        " difficulty FROM review_log ORDER BY reviewed_at, id"
    )
    last_id = 0
    last_ivl: dict[int, int] = {}
    while rows := cursor.fetchmany(BATCH):
        batch = []
        for key, at, rating, before, after, due, duration, difficulty in rows:
            cid = card_ids.get(key)
            if cid is None:
                continue
            review_id = last_id = max(at, last_id + 1)
            if after == 2:
                ivl = max(1, round((due - at) / 1000 / DAY_S))
            else:
                ivl = -max(60, round((due - at) / 1000))  # a learning step, in seconds
            kind = {0: 0, 1: 0, 2: 1, 3: 2}[before]  # learn, review, relearn
            factor = round((difficulty or 5.0) * 100)
            batch.append(
                (
                    review_id,
                    cid,
                    rating,
                    ivl,
                    last_ivl.get(cid, 0),
                    factor,
                    min(duration or 0, 60_000),
                    kind,
                )
            )
            last_ivl[cid] = ivl
        yield batch


# -- timing ------------------------------------------------------------------------------------


class Runner:
    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.env = dict(
            os.environ, PYTHONPATH=str(CHECKOUT), PYTHONPYCACHEPREFIX=str(scratch / "pycache")
        )
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)  # as an installed program has it
        self.env.pop("DRILL_DECKS", None)

    def run(self, args: list[str], typed: bytes = b"", home: Path | None = None) -> float:
        """Wall seconds of one run, `typed` as its standard input."""
        env = dict(self.env, **({"DRILL_HOME": str(home)} if home else {}))
        start = time.perf_counter()
        done = subprocess.run(
            args,
            env=env,
            cwd=self.scratch,
            input=typed,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        seconds = time.perf_counter() - start
        if done.returncode:
            raise RuntimeError(f"{' '.join(args)} failed: {done.stderr.decode()[-800:]}")
        return seconds


def _reviews(home: Path) -> int:
    with sqlite3.connect(f"file:{home / 'drill.db'}?mode=ro", uri=True) as db:
        return db.execute("SELECT count(*) FROM review_log").fetchone()[0]


def time_size(runner: Runner, home: Path, anki: Path, n: int) -> dict[str, tuple[float, float]]:
    """task -> (drill median s, Anki median s)."""
    drill = [sys.executable, "-m", "drill"]
    results = {}
    for task in TASKS:
        args, typed = DRILL_COMMANDS[task]
        drill_run = [*drill, *args]
        anki_run = [sys.executable, str(Path(__file__).resolve()), "--anki", task, str(anki)]
        reviews_before = _reviews(home)
        for _ in range(2):  # warm-up: the day's backup, the deck cache, the OS caches
            runner.run(drill_run, typed, home)
            runner.run(anki_run)
        ours, theirs = [], []
        for _ in range(n):
            ours.append(runner.run(drill_run, typed, home))
            theirs.append(runner.run(anki_run))
        made = _reviews(home) - reviews_before
        if made != (n + 2 if task == "review" else 0):  # a timed run must do what it says
            raise RuntimeError(f"drill's {task!r} runs recorded {made} reviews")
        results[task] = (statistics.median(ours), statistics.median(theirs))
    return results


def prepare(folder: Path, cards: int, seed: int) -> tuple[Path, Path]:
    """The drill home and the Anki collection for `cards` cards, built unless kept."""
    home, anki = folder / f"drill-{cards}", folder / f"anki-{cards}" / "collection.anki2"
    done = folder / f"built-{cards}"
    if done.exists() and home.exists() and anki.exists():
        return home, anki
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(anki.parent, ignore_errors=True)
    anki.parent.mkdir(parents=True)
    started = time.perf_counter()
    build_drill(home, cards, seed)
    built_drill = time.perf_counter()
    build_anki(home, anki)
    print(
        f"built {cards:,} cards, {cards * REVIEWS_PER_CARD:,} reviews: drill "
        f"{built_drill - started:.0f} s, Anki {time.perf_counter() - built_drill:.0f} s",
        file=sys.stderr,
    )
    done.touch()
    return home, anki


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--anki":
        anki_task(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,20000,100000", help="cards, comma-separated")
    parser.add_argument("-n", type=int, default=5, help="timed runs of each command (default 5)")
    parser.add_argument("--keep", type=Path, help="keep the collections in this folder")
    parser.add_argument("--seed", type=int, default=1, help="seed of the collections")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    scratch = Path(tempfile.mkdtemp(prefix="drill-vs-anki-"))
    folder = args.keep.resolve() if args.keep else scratch / "collections"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        runner = Runner(scratch)
        table = {}
        for cards in sizes:
            home, anki = prepare(folder, cards, args.seed)
            table[cards] = time_size(runner, home, anki, args.n)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print_table(table, args.n)


def print_table(table: dict[int, dict[str, tuple[float, float]]], n: int) -> None:
    from anki.buildinfo import version

    print(
        f"drill ÷ Anki {version}, whole processes, median of {n} interleaved runs; "
        f"{os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print()
    sizes = list(table)
    heads = [f"{cards:,} cards / {cards * REVIEWS_PER_CARD:,} reviews" for cards in sizes]
    print(f"{'':<12}" + "".join(f"{head:>34}" for head in heads))
    for task, label in TASKS.items():
        cells = ""
        for cards in sizes:
            ours, theirs = table[cards][task]
            cell = f"{ours / theirs:.2f}x  ({ours * 1000:.0f} / {theirs * 1000:.0f} ms)"
            cells += f"{cell:>34}"
        print(f"{label:<12}{cells}")


if __name__ == "__main__":
    main()
