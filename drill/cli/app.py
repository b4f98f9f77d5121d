"""The Typer application and the one place where domain errors become `Error: …` lines.

Also the root's edges: a closed output pipe (`drill due | head -1`) ends the command quietly,
`--help` lists the commands in groups, and shell completion is offered without costing
start-up (Typer's completion classes register only when a shell asks for completions).
"""

from __future__ import annotations

import os
import sqlite3
import sys
from enum import StrEnum
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from drill.errors import DrillError


class DrillGroup(TyperGroup):
    """Turns every DrillError (and database damage) into one clean `Error: …` line, exit 1."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return self._invoke_to_a_closed_pipe(ctx)
        except DrillError as error:
            print(f"Error: {error}", file=sys.stderr)
            raise typer.Exit(1) from error
        except sqlite3.DatabaseError as error:
            # Damage SQLite finds only when a page is read, after the store opened cleanly.
            from drill.home.paths import get_paths
            from drill.review.dbfile import database_error

            print(f"Error: {database_error(get_paths().database, error)}", file=sys.stderr)
            raise typer.Exit(1) from error
        except BrokenPipeError as error:
            # The reader went away (`drill due | head -1`): a normal end, not a failure.
            silence_stdout()
            raise typer.Exit(0) from error

    def _invoke_to_a_closed_pipe(self, ctx: Any) -> Any:
        """Invoke; a rich console that met a closed pipe exits 1 after pointing stdout at
        /dev/null (Console.on_broken_pipe): that is the same normal end, exit 0."""
        before = _stdout_identity()
        try:
            return super().invoke(ctx)
        except SystemExit as error:
            if error.code == 1 and _closed_since(before):
                raise typer.Exit(0) from error
            raise

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The commands in groups (study, progress, …), as drill.cli.HELP_GROUPS lists them."""
        from drill.cli import HELP_GROUPS

        commands = {
            name: command
            for name in self.list_commands(ctx)
            if (command := self.get_command(ctx, name)) is not None and not command.hidden
        }
        if not commands:
            return
        grouped = {name for _, names in HELP_GROUPS for name in names}
        sections = [*HELP_GROUPS, ("More", tuple(n for n in commands if n not in grouped))]
        width = max(map(len, commands))  # one column width for every group
        limit = formatter.width - 6 - width
        for title, names in sections:
            rows = [
                (n.ljust(width), commands[n].get_short_help_str(limit))
                for n in names
                if n in commands
            ]
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)

    def _main_shell_completion(self, ctx_args: Any, prog_name: str, complete_var: Any = None):
        # Typer's completion classes register only when asked: a shell asking for
        # completions sets _DRILL_COMPLETE; every other start-up skips this import.
        if os.environ.get(complete_var or f"_{prog_name}_COMPLETE".replace("-", "_").upper()):
            from typer.completion import completion_init

            completion_init()
        return super()._main_shell_completion(ctx_args, prog_name, complete_var)


def silence_stdout() -> None:
    """Point stdout at /dev/null, so that flushing it at exit into a closed pipe is silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real stdout (a test's capture): nothing to flush
        pass


def _stdout_identity() -> tuple[int, int] | None:
    try:
        stat = os.fstat(sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # a test's capture has no descriptor
        return None
    return stat.st_dev, stat.st_ino


def _devnull() -> tuple[int, int]:
    stat = os.stat(os.devnull)
    return stat.st_dev, stat.st_ino


def _closed_since(before: tuple[int, int] | None) -> bool:
    """Whether stdout became /dev/null since `before` (it was something else then)."""
    return before is not None and before != _devnull() == _stdout_identity()


class Shell(StrEnum):
    BASH = "bash"
    ZSH = "zsh"
    FISH = "fish"


app = typer.Typer(
    cls=DrillGroup,
    name="drill",
    help="Spaced-repetition drills for machine-learning interviews.",
    no_args_is_help=True,
    add_completion=False,  # drill's own --show/--install-completion below: no start-up cost
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        from drill import __version__

        typer.echo(f"drill {__version__}")
        raise typer.Exit()


def _show_completion(value: Shell | None) -> None:
    if value is not None:
        from typer.completion import completion_init, get_completion_script

        completion_init()
        typer.echo(get_completion_script(prog_name="drill", complete_var=COMPLETE_VAR, shell=value))
        raise typer.Exit()


def _install_completion(value: Shell | None) -> None:
    if value is not None:
        from typer.completion import completion_init, install

        completion_init()
        shell, path = install(shell=value.value, prog_name="drill", complete_var=COMPLETE_VAR)
        typer.echo(f"Installed {shell} completion in {path}; it works in new shells.")
        raise typer.Exit()


COMPLETE_VAR = "_DRILL_COMPLETE"


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Show the version."
    ),
    install_completion: Annotated[
        Shell | None,
        typer.Option(
            "--install-completion",
            metavar="SHELL",
            callback=_install_completion,
            is_eager=True,
            expose_value=False,
            help="Install tab completion of commands, deck and card ids for bash, zsh or fish.",
        ),
    ] = None,
    show_completion: Annotated[
        Shell | None,
        typer.Option(
            "--show-completion",
            metavar="SHELL",
            callback=_show_completion,
            is_eager=True,
            expose_value=False,
            help="Print the completion script for bash, zsh or fish, to install it yourself.",
        ),
    ] = None,
) -> None:
    """Spaced-repetition drills for machine-learning interviews."""
