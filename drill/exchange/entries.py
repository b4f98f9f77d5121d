"""What an export writes, one entry per note: a basic card, or one instance of a compute card.

A compute card stands for endless exercises, so an export freezes K of them. Instance n
of card `deck/card` is made from a seed derived from the export seed, the card key and n:
the same `--seed` always gives the same exercises, and each instance keeps its own
identity (`deck/card#n`) from one export to the next. A code card is one note: its task
and stub in front, its reference solution behind (`code_note`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import NamedTuple

from drill.exchange.workers import Job, MakeExercise, made_in_order
from drill.exercises.base import Difficulty, Exercise
from drill.model import Card, CardType, Deck

Tick = Callable[[], None]


class Entry(NamedTuple):
    """One note of an export. (A named tuple: an export makes one per note, tens of
    thousands, and a frozen dataclass cost three times as much to make.)"""

    deck: Deck
    card: Card
    instance: int | None = None  # 1-based number of a compute instance
    exercise: Exercise | None = None

    @property
    def key(self) -> str:
        """Stable identity of the note: the card key, with `#n` for a compute instance."""
        if self.instance is None:
            return self.card.key
        return f"{self.card.key}#{self.instance}"

    @property
    def tags(self) -> tuple[str, ...]:
        """Card tags, then deck tags, each once."""
        return tuple(dict.fromkeys((*self.card.tags, *self.deck.tags)))


def instance_seed(seed: int, card_key: str, instance: int) -> int:
    """The exercise seed of one instance: a hash, so neighbouring seeds share nothing."""
    digest = hashlib.sha256(f"{seed}:{card_key}:{instance}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def step_count(decks: Sequence[Deck], instances: int) -> int:
    """How many entries `entries` yields: one per basic card, `instances` per compute card."""
    return sum(
        instances if card.type is CardType.COMPUTE else 1 for deck in decks for card in deck.cards
    )


def entries(
    decks: Sequence[Deck],
    *,
    instances: int,
    seed: int,
    make: MakeExercise | None = None,
    difficulty: Difficulty = Difficulty.HAND,
    tick: Tick | None = None,
) -> Iterator[Entry]:
    """Every note of the export in deck order; `tick` is called once per entry.

    The exercises are made ahead, in worker processes when there are many of them
    (drill.exchange.workers), while the notes before them are being written."""
    if instances < 0:
        raise ValueError(f"instances must be 0 or more, not {instances}")
    jobs = exercise_jobs(decks, instances, seed, difficulty)
    with made_in_order(jobs, make) as exercises:
        for deck in decks:
            for card in deck.cards:
                for entry in _card_entries(deck, card, instances, exercises):
                    yield entry
                    if tick is not None:
                        tick()


def exercise_jobs(
    decks: Sequence[Deck], instances: int, seed: int, difficulty: Difficulty
) -> list[Job]:
    """make's arguments for each exercise of the export, in the order of the notes."""
    jobs = []
    for deck in decks:
        for card in deck.cards:
            if card.type is not CardType.COMPUTE or instances == 0:
                continue
            if card.generator is None:
                raise ValueError(f"compute card {card.key} names no generator")
            params = dict(card.params)  # a plain dict travels to a worker process
            for n in range(1, instances + 1):
                jobs.append((card.generator, instance_seed(seed, card.key, n), params, difficulty))
    return jobs


def _card_entries(
    deck: Deck, card: Card, instances: int, exercises: Iterator[Exercise]
) -> Iterator[Entry]:
    if card.type is CardType.CODE:
        yield Entry(deck, code_note(card))
        return
    if card.type is not CardType.COMPUTE:
        yield Entry(deck, card)
        return
    for n in range(1, instances + 1):
        yield Entry(deck, card, instance=n, exercise=next(exercises))


def code_note(card: Card) -> Card:
    """A code card as a note: the task and the starter stub in front, the reference
    solution behind, both in Markdown, so every format shows them as it shows a card."""
    from drill.exercises.code.registry import load

    exercise = load(card.generator or "")
    front = (
        f"**{card.q or exercise.title}**\n\n{exercise.task.strip()}\n\n"
        f"```python\n{exercise.stub.strip()}\n```"
    )
    back = (
        f"Reference solution:\n\n```python\n{exercise.reference.strip()}\n```\n\n"
        f"Grade a solution of your own with `drill code check {exercise.name} FILE`."
    )
    return replace(card, q=front, a=back)
