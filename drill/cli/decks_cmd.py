"""`drill lint` and `drill decks`: check deck files, list (and remove) the decks drill knows."""

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
    from drill.decks.loader import default_sources, load_collection, load_sources
    from drill.home.config import load_config

    extra = decks or []
    config = load_config()
    sources = [*paths, *extra] if paths else default_sources(extra)
    # Files named: their decks may not take an id drill already reads from another file
    # (a built-in deck's, say), or drill would skip them, as `drill lint` alone reports.
    taken = load_collection(extra, config.max_deck_bytes).decks if paths else ()
    collection = load_sources(sources, config.max_deck_bytes, check_params=True, taken=taken)
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


decks_app = typer.Typer(invoke_without_command=True, rich_markup_mode=None)
app.add_typer(decks_app, name="decks")


@decks_app.callback()
def list_decks(ctx: typer.Context, decks: DecksOption = None) -> None:
    """List the decks drill knows, in teaching order: id, title, cards, stage and file.

    Built-in decks show as `built-in`, other files with ~ for your home folder.
    """
    if ctx.invoked_subcommand is not None:
        return
    import shutil
    import sys

    from drill.home.paths import get_paths
    from drill.ui.columns import column_lines

    collection = load_decks(decks)
    if not collection.decks:
        folder = get_paths().user_decks
        typer.echo(f"No decks found. Put YAML decks in {folder} or pass --decks PATH.")
        return
    # On a terminal, long titles and paths wrap to its width; piped, a row is a line.
    width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None
    for line in column_lines(_table(collection), width, wrap=(1, 3, 4), right=(2,)):
        typer.echo(line)


def _complete_user_decks(incomplete: str) -> list[str]:
    from drill.home.paths import get_paths

    folder = get_paths().user_decks
    names = sorted(path.stem for path in folder.glob("*.y*ml")) if folder.is_dir() else []
    return [name for name in names if name.startswith(incomplete)]


@decks_app.command("remove")
def remove_deck(
    deck_id: Annotated[
        str,
        typer.Argument(
            metavar="ID",
            help="The deck's id, in full.",
            autocompletion=_complete_user_decks,
            show_default=False,
        ),
    ],
    purge: Annotated[
        bool,
        typer.Option(
            "--purge", help="Also delete the deck's review history (a backup is made first)."
        ),
    ] = False,
    decks: DecksOption = None,
) -> None:
    """Delete a deck from your decks folder (as `drill import` made it); its review history
    is kept, and comes back if the deck does, unless --purge."""
    from drill.decks.removal import deck_file_to_remove
    from drill.home.paths import get_paths

    collection = load_decks(decks)
    path = deck_file_to_remove(collection, deck_id, get_paths().user_decks)
    cards = _count(len(collection.deck(deck_id).cards), "card")
    if purge:
        from drill.review import backup
        from drill.review.store import Store

        with Store.open() as store:
            made = backup.make_backup(store.db, get_paths().backups, backup.Reason.PURGE)
            states, reviews = store.forget_deck(deck_id)
        typer.echo(f"Backed up the database to {made.path}")
    path.unlink()
    typer.echo(f"Removed deck {deck_id!r} ({cards}): {_home_short(path)}")
    if purge:
        typer.echo(f"Deleted its history: {_count(reviews, 'review')} of {_count(states, 'card')}.")
    else:
        typer.echo("Its review history is kept; drill decks remove --purge deletes it.")


def _table(collection: Collection) -> list[tuple[str, ...]]:
    """One row per deck in teaching order: the stage that introduces its new cards."""
    from drill.decks.curriculum import load_curriculum

    curriculum = load_curriculum()
    decks = sorted(
        collection.decks,
        key=lambda deck: (curriculum.place(deck.id).stage, curriculum.place(deck.id).position),
    )
    header = ("ID", "TITLE", "CARDS", "STAGE", "SOURCE")
    rows = [
        (deck.id, deck.title, str(len(deck.cards)), str(curriculum.place(deck.id)), _source(deck))
        for deck in decks
    ]
    return [header, *rows]


def _source(deck) -> str:
    from drill.home.paths import builtin_decks_dir

    if deck.path is None:
        return "-"
    if deck.path.resolve().parent == builtin_decks_dir().resolve():
        return "built-in"
    return _home_short(deck.path)


def _home_short(path: Path) -> str:
    """The path with ~ for the home folder, as a shell reads it back."""
    home = Path.home()
    try:
        return f"~/{path.relative_to(home)}"
    except ValueError:
        return str(path)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
