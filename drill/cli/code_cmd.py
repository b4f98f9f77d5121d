"""`drill code list`, `drill code show` and `drill code check`: implement-it exercises."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from drill.cli.app import app

code_app = typer.Typer(
    help="Code exercises: implement it in NumPy, graded on fresh random tests.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(code_app, name="code")

NameArgument = Annotated[
    str, typer.Argument(help="The code exercise, as `drill code list` names it.", metavar="NAME")
]


@code_app.command("list")
def list_exercises() -> None:
    """List the code exercises, one line each, by group."""
    from drill.exercises.code.registry import CODE_EXERCISES

    width = max(map(len, CODE_EXERCISES))
    lines: list[str] = []
    for name, info in CODE_EXERCISES.items():
        heading = f"{info.group}:"
        if heading not in lines:
            lines += ["", heading] if lines else [heading]
        lines.append(f"  {name:<{width}}  {info.summary}")
    typer.echo("\n".join(lines))


@code_app.command()
def show(
    name: NameArgument,
    reference: Annotated[
        bool, typer.Option("--reference", help="Also print the reference solution.")
    ] = False,
    stub_only: Annotated[
        bool, typer.Option("--stub", help="Print only the stub: drill code show NAME --stub > FILE")
    ] = False,
) -> None:
    """Print an exercise's task and starter stub.

    Save the stub as your solution file, fill it in, and grade it with drill code check.
    """
    from drill.exercises.code.registry import load

    exercise = load(name)
    if stub_only:
        typer.echo(exercise.stub.rstrip())
        return
    typer.echo(f"# {exercise.title} ({exercise.name})\n")
    typer.echo(exercise.task.strip() + "\n")
    typer.echo("Starter stub:\n")
    typer.echo(exercise.stub.rstrip())
    if reference:
        typer.echo("\nReference solution:\n")
        typer.echo(exercise.reference.rstrip())


@code_app.command()
def check(
    name: NameArgument,
    file: Annotated[Path, typer.Argument(help="Your solution: a Python file.", metavar="FILE")],
    seed: Annotated[
        int | None,
        typer.Option("--seed", help="Seed of the tests, to run the same ones again."),
    ] = None,
) -> None:
    """Grade FILE on fresh random tests.

    Exit status 0 when every test passes, 1 when any fails, 2 when FILE cannot be run.
    The file runs in its own Python process (time limit: code_time_limit in the config);
    the expected values are computed by drill and never handed to it.
    """
    from drill.exercises.code.checker import check_file
    from drill.exercises.code.registry import info
    from drill.home.config import load_config

    info(name)  # an unknown name fails before anything runs
    if not file.is_file():
        print(f"Error: no file {file}", file=sys.stderr)
        raise typer.Exit(2)
    if seed is None:
        import secrets

        seed = secrets.randbelow(2**31)
    config = load_config()
    report = check_file(name, file, seed, time_limit=config.code_time_limit)
    typer.echo("\n".join(report.lines()))
    raise typer.Exit(report.exit_code)
