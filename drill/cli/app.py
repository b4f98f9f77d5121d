"""The Typer application and the one place where domain errors become `Error: …` lines."""

from __future__ import annotations

import sqlite3
import sys
from typing import Any

import typer
from typer.core import TyperGroup

from drill.errors import DrillError


class DrillGroup(TyperGroup):
    """Turns every DrillError (and database damage) into one clean `Error: …` line, exit 1."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except DrillError as error:
            print(f"Error: {error}", file=sys.stderr)
            raise typer.Exit(1) from error
        except sqlite3.DatabaseError as error:
            # Damage SQLite finds only when a page is read, after the store opened cleanly.
            from drill.home.paths import get_paths
            from drill.review.dbfile import database_error

            print(f"Error: {database_error(get_paths().database, error)}", file=sys.stderr)
            raise typer.Exit(1) from error


app = typer.Typer(
    cls=DrillGroup,
    name="drill",
    help="Spaced-repetition drills for machine-learning interviews.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        from drill import __version__

        typer.echo(f"drill {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """Spaced-repetition drills for machine-learning interviews."""
