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
    with collector_off():
        return _render(decks, fmt, instances, seed, difficulty, make, tick, timestamp)


@contextlib.contextmanager
def collector_off() -> Iterator[None]:
    """Inside, the cyclic garbage collector does not run. Exercises' graphs and notes are
    made and dropped by the hundred thousand and hold no cycles, so reference counting
    frees them; the collector's passes went over the notes and exercises kept for the
    package (some 60,000 objects) again and again and found next to nothing: some 40 ms
    of a 20,000-card export. `drill export` loads the decks inside it too. Leaving turns
    the collector back on (if it was) with every object that exists then counted as old,
    as objects that lived through the export are, so that its first pass does not go over
    all of them at once as new."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()  # every generation's objects set aside, the young count reset...
        gc.unfreeze()  # ...and all of them given back as the oldest generation
        if enabled:
            gc.enable()


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
