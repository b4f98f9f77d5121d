"""Export decks to other tools: Anki packages, Anki-style CSV/TSV, Markdown, JSON.

Each format module turns entries (or, for JSON, decks) into the file's content; this
module picks the format and writes the result atomically. The HTML formats keep what
markdown-it rendered in the home for the next export (drill.exchange.rendercache).
genanki, numpy and markdown-it load only when an export runs.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from drill.errors import DrillError
from drill.exercises.base import Difficulty

if TYPE_CHECKING:
    from drill.exchange.entries import MakeExercise, Tick
    from drill.model import Deck

# entries and fileio are imported by the functions that use them: `drill export`'s options
# need only Format, and `drill --help` builds every command's options.

DEFAULT_INSTANCES = 5

# New objects between two young-generation passes of the cyclic garbage collector while an
# export renders (Python's default: 700). Exercises' graphs and notes are made and dropped
# by the hundred thousand, and reference counting frees them (they hold no cycles): at the
# default, some 230 passes found next to nothing in 0.15 s of a 20,000-card export.
EXPORT_GC_THRESHOLD = 20_000


class Format(StrEnum):
    APKG = "apkg"
    CSV = "csv"
    TSV = "tsv"
    MD = "md"
    JSON = "json"

    @property
    def binary(self) -> bool:
        return self is Format.APKG


_SUFFIXES = {
    ".apkg": Format.APKG,
    ".csv": Format.CSV,
    ".tsv": Format.TSV,
    ".md": Format.MD,
    ".markdown": Format.MD,
    ".json": Format.JSON,
}


class UnknownFormat(DrillError):
    """The export format cannot be told from the output file name."""


@dataclass(frozen=True)
class Rendered:
    content: str | bytes
    notes: int  # notes (or sheet entries) written; decks for JSON


def format_for(path: Path) -> Format:
    """The format a file name asks for, from its suffix."""
    try:
        return _SUFFIXES[path.suffix.lower()]
    except KeyError:
        known = ", ".join(_SUFFIXES)
        raise UnknownFormat(
            f"cannot tell the format of {path.name!r} (use --format, or one of {known})"
        ) from None


def render(
    decks: Sequence[Deck],
    fmt: Format,
    *,
    instances: int = DEFAULT_INSTANCES,
    seed: int = 0,
    difficulty: Difficulty = Difficulty.HAND,
    make: MakeExercise | None = None,
    tick: Tick | None = None,
    timestamp: float | None = None,
) -> Rendered:
    """The content of an export of `decks` in `fmt`. `tick` is called once per entry."""
    with fewer_collections():
        return _render(decks, fmt, instances, seed, difficulty, make, tick, timestamp)


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Inside, the garbage collector's youngest generation waits for EXPORT_GC_THRESHOLD
    new objects, and the objects made before are frozen (gc.freeze): the older
    generations' passes skip the decks' cards, which live through the whole export and
    hold no cycles (a pass over them took 25 ms of a 20,000-card export). `drill export`
    loads the decks inside it too. Leaving unfreezes them and restores the thresholds."""
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], EXPORT_GC_THRESHOLD), *thresholds[1:])
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def _render(
    decks: Sequence[Deck],
    fmt: Format,
    instances: int,
    seed: int,
    difficulty: Difficulty,
    make: MakeExercise | None,
    tick: Tick | None,
    timestamp: float | None,
) -> Rendered:
    if fmt is Format.JSON:
        from drill.exchange.jsonfmt import render_json

        return Rendered(render_json(decks), len(decks))
    from drill.exchange.entries import entries

    items = entries(
        decks, instances=instances, seed=seed, make=make, difficulty=difficulty, tick=tick
    )
    if fmt is Format.MD:
        from drill.exchange.markdown import render_markdown

        return Rendered(*render_markdown(items))
    from drill.exchange.rendercache import kept_renderings

    with kept_renderings():  # the HTML of Markdown, as earlier exports rendered it
        if fmt is Format.APKG:
            from drill.exchange.apkg import render_apkg

            return Rendered(*render_apkg(items, timestamp=timestamp))
        from drill.exchange.delimited import render_delimited

        return Rendered(*render_delimited(items, "\t" if fmt is Format.TSV else ","))


def export(
    decks: Sequence[Deck],
    fmt: Format,
    path: Path,
    *,
    force: bool = False,
    instances: int = DEFAULT_INSTANCES,
    seed: int = 0,
    difficulty: Difficulty = Difficulty.HAND,
    make: MakeExercise | None = None,
    tick: Tick | None = None,
    timestamp: float | None = None,
) -> Rendered:
    """Render and write atomically. An existing `path` is refused before any work unless `force`."""
    from drill.home.fileio import atomic_write, refuse_existing

    refuse_existing(path, force=force)
    rendered = render(
        decks,
        fmt,
        instances=instances,
        seed=seed,
        difficulty=difficulty,
        make=make,
        tick=tick,
        timestamp=timestamp,
    )
    atomic_write(path, rendered.content, force=force)
    return rendered


def total_steps(decks: Sequence[Deck], fmt: Format, instances: int) -> int:
    """How many times `render` calls `tick`, for a progress bar."""
    from drill.exchange.entries import step_count

    return 0 if fmt is Format.JSON else step_count(decks, instances)


__all__ = [
    "DEFAULT_INSTANCES",
    "Format",
    "Rendered",
    "UnknownFormat",
    "export",
    "format_for",
    "render",
    "total_steps",
]
