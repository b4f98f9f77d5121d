"""The teaching order of new cards: stages of decks, interleaved within a stage.

The built-in curriculum is `curriculum.toml` beside the built-in decks. New cards come
stage by stage; inside a stage each deck advances at the pace of its size, so the decks
interleave, and the first deck listed goes first. Decks the curriculum does not list
(the user's own) join the first stage. Within a deck, cards keep their file order.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from zlib import crc32

from drill.errors import DeckError
from drill.home.paths import builtin_decks_dir
from drill.model import Card

if TYPE_CHECKING:
    from drill.decks.cache import DeckCache

CURRICULUM_FILE = "curriculum.toml"


class Stage(NamedTuple):
    name: str
    decks: tuple[str, ...]


class Place(NamedTuple):
    """Where a deck sits in the curriculum: its stage (1-based) and position in it."""

    stage: int
    name: str
    position: int
    listed: bool = True

    def __str__(self) -> str:
        return f"{self.stage} {self.name}" if self.listed else f"{self.stage} (your decks)"


class Curriculum(NamedTuple):
    stages: tuple[Stage, ...] = ()

    def place(self, deck_id: str) -> Place:
        for number, stage in enumerate(self.stages, start=1):
            if deck_id in stage.decks:
                return Place(number, stage.name, stage.decks.index(deck_id))
        first = self.stages[0].name if self.stages else ""
        return Place(1, first, len(self.stages[0].decks) if self.stages else 0, listed=False)

    def teaching_order(self, cards: Sequence[Card]) -> list[Card]:
        """`cards` in the order new cards should be introduced.

        A card's rank is its stage, then how far into its deck it lies (index / deck size,
        so decks of one stage interleave at their own pace), then its deck's place in the
        stage. Only the order changes: the same cards come back.
        """
        by_deck: dict[str, list[Card]] = {}
        for card in cards:
            by_deck.setdefault(card.deck_id, []).append(card)
        unlisted = [deck_id for deck_id in by_deck if not self.place(deck_id).listed]
        ranked = []
        for deck_id, deck_cards in by_deck.items():
            place = self.place(deck_id)
            position = place.position + (unlisted.index(deck_id) if not place.listed else 0)
            size = len(deck_cards)
            for index, card in enumerate(deck_cards):
                ranked.append(((place.stage, index / size, position), card))
        ranked.sort(key=lambda item: item[0])
        return [card for _, card in ranked]


def load_curriculum(path: Path | None = None, cache: DeckCache | None = None) -> Curriculum:
    """The curriculum in `path` (the built-in one by default); none when there is no file.
    With a `cache`, the file parsed before is taken from it by its checksum: TOML's parser
    costs every command's start more than reading the file does."""
    path = path or builtin_decks_dir() / CURRICULUM_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return Curriculum()
    except OSError as error:
        raise DeckError(f"cannot read the curriculum: {error}", str(path)) from None
    key = curriculum_key(data)
    kept = cache.noted(key) if cache else None
    if kept is not None and (curriculum := _from_json(json.loads(kept))):
        return curriculum
    from drill.decks.shipped import shipped_curriculum  # (the wheel's table: a new home)

    curriculum = _from_json(shipped_curriculum(path, key)) or _parse(data, path)
    if cache:
        cache.note(key, json.dumps(stages_json(curriculum)))
    return curriculum


def curriculum_key(data: bytes) -> str:
    """What names one version of a curriculum file: its CRC-32 and size."""
    return f"curriculum {crc32(data):08x}-{len(data)}"


def stages_json(curriculum: Curriculum) -> list:
    """The curriculum as JSON keeps it: [[stage name, [deck, ...]], ...]."""
    return [[stage.name, list(stage.decks)] for stage in curriculum.stages]


def _from_json(stages: Any) -> Curriculum | None:
    """The curriculum `stages_json` wrote, or None for anything else."""
    try:
        return Curriculum(tuple(Stage(name, tuple(decks)) for name, decks in stages))
    except (ValueError, TypeError):
        return None


def _parse(data: bytes, path: Path) -> Curriculum:
    import tomllib

    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise DeckError(f"cannot read the curriculum: {error}", str(path)) from None
    stages = []
    for number, stage in enumerate(raw.get("stage", []), start=1):
        name, decks = stage.get("name"), stage.get("decks")
        if not isinstance(name, str) or not isinstance(decks, list):
            raise DeckError(f"stage {number} needs a name and a list of decks", str(path))
        stages.append(Stage(name, tuple(str(deck) for deck in decks)))
    return Curriculum(tuple(stages))
