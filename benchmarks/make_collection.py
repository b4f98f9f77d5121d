"""Build a large synthetic collection to benchmark drill at scale.

    python benchmarks/make_collection.py --home DIR [--cards 20000] [--reviews 1000000]

DIR becomes a drill home (use it with DRILL_HOME=DIR): `--decks` YAML files of generated
cards in DIR/decks, and a database DIR/drill.db whose review log holds `--reviews`
reviews, written through drill's own Store (Store.record_many, in large transactions).

The history is made up but shaped like a real one: most cards reviewed for up to three
years with growing gaps, a tenth never studied, some lapses, relearning and suspended
cards, compute cards with seeds and typed answers, the log in time order, and due dates
spread around today so that `drill due` and `drill study` have work to do.
"""

from __future__ import annotations

import argparse
import bisect
import heapq
import itertools
import random
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from drill.exercises.registry import GENERATORS
from drill.model import CardState, Rating
from drill.review.store import CardRecord, Review, Store

DAY_MS = 86_400_000
HISTORY_DAYS = 3 * 365
NEW_SHARE = 0.10  # cards never studied
SUSPENDED_SHARE = 0.01
LEFT_LEARNING = 0.05  # lapsed cards whose relearning was left for later
COMPUTE_EVERY = 20  # one card in 20 is a compute card
BATCH = 100_000  # reviews per transaction
_VOCABULARY = """
gradient loss weight bias layer network activation softmax entropy batch norm convolution
kernel stride padding attention head query key value embedding token residual dropout
optimizer momentum learning rate schedule warmup decay variance initialisation overfitting
regularisation validation test error precision recall sigmoid tanh relu saturate vanish
explode clip chain rule jacobian vector product forward backward pass graph node edge
tensor shape broadcast sum mean sample
"""
WORDS = tuple(_VOCABULARY.split())
RATINGS = (Rating.AGAIN, Rating.HARD, Rating.GOOD, Rating.EASY)
RATING_CUMULATIVE = (0.08, 0.15, 0.90, 1.0)  # Again 8%, Hard 7%, Good 75%, Easy 10%


def main() -> None:
    args = parse_args()
    home: Path = args.home
    database = home / "drill.db"
    if database.exists():
        sys.exit(f"{database} exists; give an empty or new --home")
    rng = random.Random(args.seed)
    started = time.perf_counter()
    keys = write_decks(home / "decks", args.cards, args.decks, rng)
    decks_done = time.perf_counter()
    now_ms = round(datetime.now(UTC).timestamp() * 1000)
    with Store(database) as store:
        # A large page cache for this connection only: the log's indexes grow to hundreds
        # of megabytes, and inserting into them from disk pages is most of the time.
        store.db.execute(f"PRAGMA cache_size = {-256 * 1024}")  # KiB
        written = write_reviews(store, keys, args.reviews, now_ms, rng)
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
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
    """Write the deck files; returns every card key, and whether it is a compute card."""
    folder.mkdir(parents=True, exist_ok=True)
    generators = sorted(GENERATORS)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    keys: dict[str, bool] = {}
    for number in range(decks):
        deck_id = f"bench-{number:02d}"
        count = cards // decks + (number < cards % decks)
        deck_cards = [make_card(f"c{index:05d}", index, generators, rng) for index in range(count)]
        deck = {
            "id": deck_id,
            "title": f"Benchmark deck {number}",
            "description": sentence(rng, 12),
            "tags": ["benchmark"],
            "cards": deck_cards,
        }
        text = yaml.dump(deck, Dumper=dumper, sort_keys=False, allow_unicode=True, width=90)
        (folder / f"{deck_id}.yaml").write_text(text, encoding="utf-8")
        keys.update((f"{deck_id}/{card['id']}", "generator" in card) for card in deck_cards)
    return keys


def make_card(card_id: str, index: int, generators: list[str], rng: random.Random) -> dict:
    tags = rng.sample(WORDS[:12], 2)
    if index % COMPUTE_EVERY == COMPUTE_EVERY - 1:
        return {"id": card_id, "type": "compute", "generator": rng.choice(generators)}
    answer = "\n\n".join(sentence(rng, rng.randint(15, 35)) for _ in range(rng.randint(1, 3)))
    return {"id": card_id, "q": sentence(rng, rng.randint(6, 16)) + "?", "a": answer, "tags": tags}


def sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:]


# -- reviews -----------------------------------------------------------------------------


def write_reviews(
    store: Store, keys: dict[str, bool], total: int, now_ms: int, rng: random.Random
) -> int:
    studied = [key for key in keys if rng.random() >= NEW_SHARE] or list(keys)[:1]
    counts = split(total, len(studied), rng)
    timelines = [
        card_history(key, keys[key], count, now_ms, random.Random(rng.random()))
        for key, count in zip(studied, counts, strict=True)
        if count
    ]
    # The log is appended in time order, as real use appends it.
    merged = heapq.merge(*timelines, key=lambda item: item[0])
    written = 0
    while batch := [(review, after) for _, review, after in itertools.islice(merged, BATCH)]:
        written += store.record_many(batch)
    return written


def split(total: int, parts: int, rng: random.Random) -> list[int]:
    """`total` reviews over `parts` cards, unevenly (some cards are much harder)."""
    weights = [rng.uniform(0.2, 1.8) for _ in range(parts)]
    scale = total / sum(weights)
    counts = [int(weight * scale) for weight in weights]
    for index in rng.sample(range(parts), total - sum(counts)):
        counts[index] += 1
    return counts


def card_history(
    key: str, compute: bool, count: int, now_ms: int, rng: random.Random
) -> Iterator[tuple[int, Review, CardRecord]]:
    """One card's reviews, oldest first, each with the state it leaves the card in.

    Gaps grow along the card's history; the last review's interval is about the gap
    before it, so the cards' due dates fall on both sides of today.
    """
    start = now_ms - round(rng.uniform(0.05, 1.0) * HISTORY_DAYS * DAY_MS)
    span = (now_ms - DAY_MS // 2) - start
    state, lapses, difficulty = CardState.NEW, 0, rng.uniform(3, 8)
    times = [start + round(span * ((k + 1) / count) ** 1.6) for k in range(count)]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    gaps.append(round((gaps[-1] if gaps else DAY_MS) * rng.uniform(0.6, 1.8)))
    for k, (at, gap) in enumerate(zip(times, gaps, strict=True)):
        rating = RATINGS[bisect.bisect(RATING_CUMULATIVE, rng.random())]
        if k + 1 == count and rating is Rating.AGAIN and rng.random() > LEFT_LEARNING:
            rating = Rating.GOOD  # a lapse is relearned the same day, as a rule
        if rating is Rating.AGAIN:
            lapses += state is CardState.REVIEW
            after_state = CardState.LEARNING if state is CardState.NEW else CardState.RELEARNING
            due = at + 10 * 60_000
        else:
            after_state, due = CardState.REVIEW, at + max(gap, DAY_MS)
        stability = max(0.1, (due - at) / DAY_MS)
        difficulty = min(10.0, max(1.0, difficulty + rng.uniform(-0.3, 0.3)))
        last = k + 1 == count
        suspended = last and rng.random() < SUSPENDED_SHARE
        after = CardRecord(
            key,
            after_state,
            0 if after_state is not CardState.REVIEW else None,
            stability,
            difficulty,
            _utc(due),
            _utc(at),
            k + 1,
            lapses,
            suspended=suspended,
            leech=lapses >= 8,
        )
        typed = f"{rng.uniform(-3, 3):.3f}" if compute else None
        review = Review(
            key=key,
            reviewed_at=_utc(at),
            rating=rating,
            state_before=state,
            state_after=after_state,
            due_after=_utc(due),
            duration_ms=rng.randint(1_500, 40_000),
            stability=stability,
            difficulty=difficulty,
            seed=rng.randrange(2**31) if compute else None,
            answer=typed,
            correct=(rating is not Rating.AGAIN) if compute else None,
        )
        state = after_state
        yield at, review, after


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _utc(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


if __name__ == "__main__":
    main()
