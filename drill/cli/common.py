"""Options shared by several commands, and small output helpers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

DecksOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--decks",
        help="Extra folder or file of YAML decks (repeatable). DRILL_DECKS works too.",
        show_default=False,
    ),
]


def warn(message: str) -> None:
    """One line on stderr, for problems that do not stop the command."""
    print(f"Warning: {message}", file=sys.stderr)


def load_decks(extra: list[Path] | None):
    """Every deck drill knows; a bad deck file is a one-line warning, never a stop."""
    from drill.decks import load_collection

    collection = load_collection(extra or ())
    for error in collection.errors:
        warn(str(error))
    return collection
