"""Build a large synthetic collection to benchmark drill at scale.

    python benchmarks/make_collection.py --home DIR [--cards 20000] [--reviews 1000000]

DIR becomes a drill home (use it with DRILL_HOME=DIR): `--decks` YAML files of generated
cards in DIR/decks, and a database DIR/drill.db whose review log holds `--reviews`
reviews. The schema is made by drill's own Store (its migrations); the rows go in with
plain SQL, as a bulk load: the whole history is drawn with NumPy a column at a time,
sorted into time order and inserted in large transactions, with the log's secondary
indexes built once at the end (100,000 cards and 5 million reviews in about a minute).

The history is made up but shaped like a real one: most cards reviewed for up to three
years with growing gaps, a tenth never studied, some lapses, relearning and suspended
cards, compute cards with seeds and typed answers, the log in time order, and due dates
spread around today (a few days' worth overdue) so that `drill due` and `drill study`
have work to do.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

# This checkout's drill, not a copy installed in the environment (which may be older).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drill.exercises.registry import GENERATORS
from drill.model import CardState, Rating
from drill.review.store import Store

DAY_MS = 86_400_000
HISTORY_DAYS = 3 * 365
NEW_SHARE = 0.10  # cards never studied
SUSPENDED_SHARE = 0.01
LEFT_LEARNING = 0.05  # lapsed cards whose relearning was left for later
COMPUTE_EVERY = 20  # one card in 20 is a compute card
LEECH_LAPSES = 8  # cards with this many lapses are marked as leeches
BATCH = 250_000  # reviews per transaction
_VOCABULARY = """
gradient loss weight bias layer network activation softmax entropy batch norm convolution
kernel stride padding attention head query key value embedding token residual dropout
optimizer momentum learning rate schedule warmup decay variance initialisation overfitting
regularisation validation test error precision recall sigmoid tanh relu saturate vanish
explode clip chain rule jacobian vector product forward backward pass graph node edge
tensor shape broadcast sum mean sample
"""
WORDS = tuple(_VOCABULARY.split())
RATING_CUMULATIVE = (0.08, 0.15, 0.90, 1.0)  # Again 8%, Hard 7%, Good 75%, Easy 10%


def main() -> None:
    args = parse_args()
    home: Path = args.home
    database = home / "drill.db"
    if database.exists():
        sys.exit(f"{database} exists; give an empty or new --home")
    started = time.perf_counter()
    keys = write_decks(home / "decks", args.cards, args.decks, random.Random(args.seed))
    decks_done = time.perf_counter()
    now_ms = round(datetime.now(UTC).timestamp() * 1000)
    written = write_reviews(database, keys, args.reviews, now_ms, args.seed)
    finished = time.perf_counter()
    print(f"{len(keys):,} cards in {args.decks} deck files: {home / 'decks'}")
    print(f"{written:,} reviews: {database} ({database.stat().st_size / 2**20:,.0f} MiB)")
    print(f"decks {decks_done - started:.1f} s, reviews {finished - decks_done:.1f} s")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True, help="the drill home to create")
    parser.add_argument("--cards", type=int, default=20_000, help="cards in all (default 20000)")
    parser.add_argument("--reviews", type=int, default=1_000_000, help="reviews in the log")
    parser.add_argument("--decks", type=int, default=50, help="deck files (default 50)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    args = parser.parse_args()
    if args.cards < args.decks or args.decks < 1 or args.reviews < 0:
        parser.error("need at least one deck, one card per deck, and no negative counts")
    return args


# -- decks -------------------------------------------------------------------------------


def write_decks(folder: Path, cards: int, decks: int, rng: random.Random) -> dict[str, bool]:
    """Write the deck files; returns every card key, and whether it is a compute card.

    The YAML is written as text: every string is a JSON string, which YAML reads as a
    double-quoted scalar, and PyYAML's emitter would take longer than the rest of a
    100,000-card collection."""
    folder.mkdir(parents=True, exist_ok=True)
    generators = sorted(GENERATORS)
    keys: dict[str, bool] = {}
    for number in range(decks):
        deck_id = f"bench-{number:02d}"
        count = cards // decks + (number < cards % decks)
        lines = [
            f"id: {deck_id}",
            f"title: Benchmark deck {number}",
            f"description: {json.dumps(sentence(rng, 12))}",
            "tags: [benchmark]",
            "cards:",
        ]
        for index in range(count):
            card_id = f"c{index:05d}"
            compute = index % COMPUTE_EVERY == COMPUTE_EVERY - 1
            lines += compute_card(card_id, generators, rng) if compute else basic_card(card_id, rng)
            keys[f"{deck_id}/{card_id}"] = compute
        (folder / f"{deck_id}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return keys


def basic_card(card_id: str, rng: random.Random) -> list[str]:
    question = sentence(rng, rng.randint(6, 16)) + "?"
    answer = "\n\n".join(sentence(rng, rng.randint(15, 35)) for _ in range(rng.randint(1, 3)))
    return [
        f"- id: {card_id}",
        f"  q: {json.dumps(question)}",
        f"  a: {json.dumps(answer)}",
        f"  tags: [{', '.join(rng.sample(WORDS[:12], 2))}]",
    ]


def compute_card(card_id: str, generators: list[str], rng: random.Random) -> list[str]:
    return [f"- id: {card_id}", "  type: compute", f"  generator: {rng.choice(generators)}"]


def sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choices(WORDS, k=words))
    return text[0].upper() + text[1:]


# -- reviews -----------------------------------------------------------------------------

_REVIEW_COLUMNS = (
    "key, reviewed_at, rating, state_before, state_after, due_after, duration_ms,"
    " stability, difficulty, seed, answer, correct, previous"
)
_CARD_COLUMNS = (
    "key, state, step, stability, difficulty, due, last_review, reps, lapses, suspended, leech"
)


@dataclass
class History:
    """Every review of every card, one NumPy array per column, each card's reviews on
    consecutive rows, oldest first (`first` and `last` mark where a card's run starts and
    ends). Columns hold the review and the state it leaves the card in."""

    card: np.ndarray  # index into the list of keys
    at: np.ndarray  # reviewed_at, ms
    rating: np.ndarray
    before: np.ndarray  # state_before
    after: np.ndarray  # state_after
    due: np.ndarray  # due_after, ms
    stability: np.ndarray
    difficulty: np.ndarray
    lapses: np.ndarray  # after the review
    reps: np.ndarray  # after the review
    duration: np.ndarray
    first: np.ndarray
    last: np.ndarray
    suspended: np.ndarray
    compute: np.ndarray
    seed: np.ndarray
    typed: np.ndarray

    def __len__(self) -> int:
        return len(self.at)


def draw_history(compute: np.ndarray, total: int, now_ms: int, seed: int) -> History:
    """`total` reviews over the cards (`compute` marks the compute cards), drawn with NumPy
    a column at a time. A card's history is worked out along its own run of rows: the
    state before a review is the state after the one before it, lapses and the drift of
    difficulty are running sums within the run."""
    rng = np.random.default_rng(seed)
    n_cards = len(compute)
    studied = np.flatnonzero(rng.random(n_cards) >= NEW_SHARE)
    if studied.size == 0:
        studied = np.arange(min(n_cards, 1))
    counts = split(total, studied.size, rng)
    studied, counts = studied[counts > 0], counts[counts > 0]
    card = np.repeat(studied, counts)
    offsets = np.cumsum(counts) - counts  # each card's first row
    k = np.arange(total) - np.repeat(offsets, counts)  # position in the card's history
    n = np.repeat(counts, counts)
    first, last = k == 0, k == n - 1

    # Gaps grow along a card's history; the last review's interval is about the gap
    # before it. Each history first ends now, then moves back into its last interval.
    start = now_ms - np.round(rng.uniform(0.05, 1.0, studied.size) * HISTORY_DAYS * DAY_MS)
    span = now_ms - start
    at = np.repeat(start, counts) + np.round(np.repeat(span, counts) * ((k + 1) / n) ** 1.6)
    at = at.astype(np.int64)
    gap_before = np.diff(at, prepend=at[:1])
    gap_before[first] = DAY_MS
    gap_after = np.append(np.diff(at), 0)
    last_gap = np.round(gap_before * rng.uniform(0.6, 1.8, total)).astype(np.int64)
    gap = np.where(last, last_gap, gap_after)

    rating = np.searchsorted(RATING_CUMULATIVE, rng.random(total), side="right") + 1
    # A lapse is relearned the same day, as a rule: few cards are left in relearning.
    rating[last & (rating == Rating.AGAIN) & (rng.random(total) > LEFT_LEARNING)] = Rating.GOOD
    again = rating == Rating.AGAIN
    after = np.where(
        again, np.where(first, CardState.LEARNING, CardState.RELEARNING), CardState.REVIEW
    )
    before = np.roll(after, 1)
    before[first] = CardState.NEW
    lapses = _running_sum(again & (before == CardState.REVIEW), first, counts)
    due = at + np.where(again, 10 * 60_000, np.maximum(gap, DAY_MS))
    # A card was last seen at some point of its last interval, a tenth of them a little
    # more than that interval ago: the due dates fall on both sides of now, a few days'
    # worth of cards overdue, as in the collection of someone who studies most days.
    back = np.round((due - at)[last] * rng.uniform(0.02, 1.1, studied.size)).astype(np.int64)
    at -= np.repeat(back, counts)
    due -= np.repeat(back, counts)
    stability = np.maximum(0.1, (due - at) / DAY_MS)
    drift = _running_sum(rng.uniform(-0.3, 0.3, total), first, counts)
    difficulty = np.clip(np.repeat(rng.uniform(3, 8, studied.size), counts) + drift, 1.0, 10.0)
    is_compute = compute[card]
    return History(
        card=card,
        at=at,
        rating=rating,
        before=before,
        after=after,
        due=due,
        stability=stability,
        difficulty=difficulty,
        lapses=lapses,
        reps=k + 1,
        duration=rng.integers(1_500, 40_001, total),
        first=first,
        last=last,
        suspended=last & (rng.random(total) < SUSPENDED_SHARE),
        compute=is_compute,
        seed=rng.integers(0, 2**31, total),
        typed=np.round(rng.uniform(-3, 3, total), 3),
    )


def _running_sum(values: np.ndarray, first: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The sum of `values` from the start of each card's run up to each row."""
    total = np.cumsum(values)
    starts = total[first] - values[first]
    return total - np.repeat(starts, counts)


def split(total: int, parts: int, rng: np.random.Generator) -> np.ndarray:
    """`total` reviews over `parts` cards, unevenly (some cards are much harder)."""
    if parts == 0:
        return np.zeros(0, np.int64)
    weights = rng.uniform(0.2, 1.8, parts)
    counts = np.floor(weights * (total / weights.sum())).astype(np.int64)
    short = total - int(counts.sum())
    counts[rng.choice(parts, size=short, replace=False)] += 1
    return counts


def write_reviews(database: Path, keys: dict[str, bool], total: int, now_ms: int, seed: int) -> int:
    """Draw the history and write it: the log in time order, as real use appends it, and
    each studied card's final state. Returns the number of reviews written."""
    names = list(keys)
    history = draw_history(np.array(list(keys.values()), dtype=bool), total, now_ms, seed)
    order = np.argsort(history.at, kind="stable")
    with Store(database) as store:  # the schema of this drill, through its migrations
        db = store.db
        # A bulk load into a new file: no journal and no fsync (a failed load leaves a file
        # to delete, nothing more), and a page cache the size of the indexes.
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
        db.execute(f"PRAGMA cache_size = {-1024 * 1024}")  # KiB
        with _indexes_built_after(db, "review_log"):
            for begin in range(0, len(order), BATCH):
                rows = _review_rows(history, order[begin : begin + BATCH], names)
                with store.write():
                    db.executemany(_INSERT_REVIEW, rows)
        with store.write():
            db.executemany(
                f"INSERT INTO card_state ({_CARD_COLUMNS}) VALUES ({', '.join('?' * 11)})",
                _card_rows(history, np.flatnonzero(history.last), names),
            )
        db.execute("PRAGMA journal_mode = WAL")  # as drill keeps its database
    return len(history)


@contextmanager
def _indexes_built_after(db: sqlite3.Connection, table: str) -> Iterator[None]:
    """Drop the table's secondary indexes for the load and build them again after it, from
    their own SQL: one sort per index instead of millions of inserts at random places."""
    indexes = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
        " AND sql IS NOT NULL",
        (table,),
    ).fetchall()
    for name, _ in indexes:
        db.execute(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        for _, sql in indexes:
            db.execute(sql)


# The card's previous state is kept with each review for undo: JSON of its CardRecord, built
# by SQLite from the previous review's columns (?13 onwards), NULL before the first review.
_INSERT_REVIEW = f"""INSERT INTO review_log ({_REVIEW_COLUMNS}) VALUES (
    ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,
    CASE WHEN ?13 IS NOT NULL THEN json_object(
        'key', ?1, 'state', ?13,
        'step', CASE WHEN ?13 = {int(CardState.REVIEW)} THEN NULL ELSE 0 END,
        'stability', ?14, 'difficulty', ?15, 'due', ?16, 'last_review', ?17, 'reps', ?18,
        'lapses', ?19, 'suspended', json('false'),
        'leech', json(CASE WHEN ?19 >= {LEECH_LAPSES} THEN 'true' ELSE 'false' END)) END)"""


def _review_rows(history: History, rows: np.ndarray, names: list[str]) -> Iterator[tuple]:
    """The parameters of _INSERT_REVIEW for `rows` (indexes into the history)."""
    h = history
    compute = h.compute[rows].tolist()
    correct = (h.rating[rows] != Rating.AGAIN).tolist()
    earlier = rows - 1  # the card's review before, unless this is its first
    earlier_state = np.where(h.first[rows], -1, h.after[earlier]).tolist()
    return zip(
        [names[c] for c in h.card[rows].tolist()],
        h.at[rows].tolist(),
        h.rating[rows].tolist(),
        h.before[rows].tolist(),
        h.after[rows].tolist(),
        h.due[rows].tolist(),
        h.duration[rows].tolist(),
        h.stability[rows].tolist(),
        h.difficulty[rows].tolist(),
        [s if c else None for s, c in zip(h.seed[rows].tolist(), compute, strict=True)],
        [f"{t:.3f}" if c else None for t, c in zip(h.typed[rows].tolist(), compute, strict=True)],
        [int(ok) if c else None for ok, c in zip(correct, compute, strict=True)],
        [None if state < 0 else state for state in earlier_state],
        h.stability[earlier].tolist(),
        h.difficulty[earlier].tolist(),
        h.due[earlier].tolist(),
        h.at[earlier].tolist(),
        h.reps[earlier].tolist(),
        h.lapses[earlier].tolist(),
        strict=True,
    )


def _card_rows(history: History, rows: np.ndarray, names: list[str]) -> Iterator[tuple]:
    h = history
    after = h.after[rows].tolist()
    return zip(
        [names[c] for c in h.card[rows].tolist()],
        after,
        [None if state == CardState.REVIEW else 0 for state in after],
        h.stability[rows].tolist(),
        h.difficulty[rows].tolist(),
        h.due[rows].tolist(),
        h.at[rows].tolist(),
        h.reps[rows].tolist(),
        h.lapses[rows].tolist(),
        h.suspended[rows].astype(int).tolist(),
        (h.lapses[rows] >= LEECH_LAPSES).astype(int).tolist(),
        strict=True,
    )


if __name__ == "__main__":
    main()
