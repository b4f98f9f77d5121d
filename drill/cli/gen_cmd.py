"""`drill gen`: worksheets of fresh exercises, with the answer key at the end."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from drill.cli.app import app
from drill.cli.common import complete_generators
from drill.exercises.base import Difficulty
from drill.exercises.worksheet import Format

# Below this many exercises a worksheet is ready before a progress bar would be useful.
PROGRESS_THRESHOLD = 50


@app.command()
def gen(
    names: Annotated[
        list[str] | None,
        typer.Argument(
            help="Generators to use, in this order (default: every generator in turn).",
            show_default=False,
            autocompletion=complete_generators,
        ),
    ] = None,
    count: Annotated[
        int, typer.Option("-n", "--count", min=1, max=100_000, help="Exercises per generator.")
    ] = 1,
    seed: Annotated[
        int,
        typer.Option(
            "--seed",
            help="Worksheet seed. Deterministic: the same arguments always give the same "
            "worksheet, byte for byte; pick another seed for fresh exercises.",
        ),
    ] = 0,
    difficulty: Annotated[
        Difficulty,
        typer.Option(
            "--difficulty",
            "-d",
            help="hand: small numbers on a 0.5 grid, for pen and paper; calc: any floats.",
        ),
    ] = Difficulty.HAND,
    fmt: Annotated[
        Format,
        typer.Option(
            "--format",
            "-f",
            help="text or md: numbered questions, then the answer key; "
            "json: an array of exercise records.",
        ),
    ] = Format.TEXT,
    answers: Annotated[
        bool,
        typer.Option(
            "--answers/--no-answers",
            help="Include the answer key (for json: the answer and solution fields).",
        ),
    ] = True,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o", "--output", help="Write to this file instead of the screen.", show_default=False
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite the output file.")] = False,
    list_only: Annotated[
        bool, typer.Option("--list", help="List the generators, one line each, and stop.")
    ] = False,
    steps: Annotated[
        bool,
        typer.Option(
            "--steps",
            help="List each exercise's steps (forward values, then gradients) where it has "
            "them: by name under the question, with values in the key; json: a steps field.",
        ),
    ] = False,
    code: Annotated[
        bool,
        typer.Option(
            "--code",
            help="A code worksheet instead, in Markdown: each task with its stub, reference "
            "solutions as the key. NAMES are then code exercises (drill code list).",
        ),
    ] = False,
) -> None:
    """Generate a worksheet of fresh exercises, with worked solutions in the answer key."""
    if code:
        _code_worksheet(names or [], fmt, answers, output, force, list_only)
        return
    from drill.exercises import worksheet

    if list_only:
        _list_generators()
        return
    plan = worksheet.plan(names or (), count, seed)  # unknown names fail before any work
    if output is not None:
        from drill.home.fileio import refuse_existing

        refuse_existing(output, force=force)
    sheet = _build_with_progress(names or (), count, seed, difficulty, len(plan))
    text = worksheet.render(sheet, fmt, answers=answers, steps=steps)
    if output is None:
        typer.echo(text, nl=False)
        return
    from drill.home.fileio import atomic_write

    atomic_write(output, text, force=force)
    count = len(sheet.exercises)
    typer.echo(f"Wrote {count} exercise{'' if count == 1 else 's'} to {output}", err=True)


def _list_generators() -> None:
    from drill.exercises.registry import GENERATORS

    width = max(map(len, GENERATORS))
    for name, info in GENERATORS.items():
        typer.echo(f"{name:<{width}}  {info.summary}")


def _build_with_progress(
    names: list[str] | tuple[()], count: int, seed: int, difficulty: Difficulty, total: int
):
    from drill.exercises.worksheet import build

    if total < PROGRESS_THRESHOLD or not _stderr_may_be_a_terminal():
        return build(names, count, seed, difficulty)
    from rich.console import Console

    console = Console(stderr=True)
    if not console.is_terminal:
        return build(names, count, seed, difficulty)
    from rich.progress import Progress

    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("Generating", total=total)
        return build(names, count, seed, difficulty, lambda: progress.advance(task))


def _stderr_may_be_a_terminal() -> bool:
    """False when rich's console would certainly not take standard error for a terminal
    (rich obeys TTY_COMPATIBLE=1 and FORCE_COLOR too): importing rich only to learn that
    it is a pipe or a file took 30-40 ms, a twentieth of a thousand-exercise worksheet."""
    if os.environ.get("TTY_COMPATIBLE") == "1" or os.environ.get("FORCE_COLOR"):
        return True
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # no stream, or a closed one
        return False


def _code_worksheet(
    names: list[str], fmt: Format, answers: bool, output: Path | None, force: bool, listed: bool
) -> None:
    """`drill gen --code`: the code exercises' tasks and stubs, in Markdown."""
    from drill.errors import DrillError
    from drill.exercises.code import registry

    if listed:
        width = max(map(len, registry.CODE_EXERCISES))
        for name, info in registry.CODE_EXERCISES.items():
            typer.echo(f"{name:<{width}}  {info.summary}")
        return
    if fmt is Format.JSON:
        raise DrillError("a code worksheet is Markdown: leave out --format json")
    from drill.exercises.code.worksheet import render
    from drill.home.fileio import atomic_write, refuse_existing

    if output is not None:
        refuse_existing(output, force=force)
    text = render(names, answers=answers)  # unknown names fail here, before anything is written
    if output is None:
        typer.echo(text, nl=False)
        return
    atomic_write(output, text, force=force)
    count = len(dict.fromkeys(names)) or len(registry.CODE_EXERCISES)
    typer.echo(f"Wrote {count} code exercise{'' if count == 1 else 's'} to {output}", err=True)
