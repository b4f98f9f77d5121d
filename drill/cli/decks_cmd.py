"""`drill lint` and `drill decks`: check deck files, list the decks drill knows."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from drill.cli.app import app
from drill.cli.common import DecksOption, load_decks

if TYPE_CHECKING:
    from drill.decks.loader import Collection

# The core modules are imported inside the commands: `drill --help` imports every command
# module, and should not pay for loading decks (benchmarks/README.md).

PathsArgument = Annotated[
    list[Path] | None,
    typer.Argument(
        help="Deck files or folders to check. Default: every deck drill knows.",
        metavar="PATH",
        show_default=False,
    ),
]


@app.command()
def lint(paths: PathsArgument = None, decks: DecksOption = None) -> None:
    """Check deck files and report every error as path:line:column; exit 1 if any."""
    from drill.decks.loader import default_sources, load_sources
    from drill.home.config import load_config

    extra = decks or []
    sources = [*paths, *extra] if paths else default_sources(extra)
    collection = load_sources(sources, load_config().max_deck_bytes, check_params=True)
    for error in collection.errors:
        typer.echo(str(error))
    if collection.errors:
        files = {error.path for error in collection.errors}
        typer.echo(
            f"Found {_count(len(collection.errors), 'error')} in {_count(len(files), 'file')}."
        )
        raise typer.Exit(1)
    deck_count = _count(len(collection.decks), "deck")
    typer.echo(f"{deck_count}, {_count(collection.card_count, 'card')}: OK")


@app.command("decks")
def list_decks(decks: DecksOption = None) -> None:
    """List the decks drill knows, in teaching order: id, title, cards, stage and file."""
    from drill.home.paths import get_paths

    collection = load_decks(decks)
    if not collection.decks:
        folder = get_paths().user_decks
        typer.echo(f"No decks found. Put YAML decks in {folder} or pass --decks PATH.")
        return
    for line in _table(collection):
        typer.echo(line)


def _table(collection: Collection) -> list[str]:
    """One row per deck in teaching order: the stage that introduces its new cards."""
    from drill.decks.curriculum import load_curriculum

    curriculum = load_curriculum()
    decks = sorted(
        collection.decks,
        key=lambda deck: (curriculum.place(deck.id).stage, curriculum.place(deck.id).position),
    )
    header = ("ID", "TITLE", "CARDS", "STAGE", "SOURCE")
    rows = [
        (deck.id, deck.title, str(len(deck.cards)), str(curriculum.place(deck.id)), str(deck.path))
        for deck in decks
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(4)]
    return [
        f"{id_:<{widths[0]}}  {title:<{widths[1]}}  {count:>{widths[2]}}  "
        f"{stage:<{widths[3]}}  {source}"
        for id_, title, count, stage, source in (header, *rows)
    ]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
