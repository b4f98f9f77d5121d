"""The study screen of a code card: the task, the solution file, the tests, the reference.

Each code card has a solution file under the data folder (`code/<deck>/<card>.py`). It
starts as the exercise's stub; an attempt that did not pass stays there for the next try,
and one that passed is kept beside it (`<card>.passed.py`), so the next review starts
from the stub again.

On a terminal, Enter opens the file in $VISUAL (else $EDITOR) and runs the tests once the
editor closes; without an editor it prints the path and waits for Enter. When input is not
a terminal, one line holds the path of the file to grade (an empty line skips to the
reference solution), so sessions can be scripted. The study screen then proposes *good*
when every test passed and *again* otherwise; the review log keeps the seed of the tests
and how many passed ("7/8 passed").
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

from rich.console import Console
from rich.panel import Panel
from rich.syntax import Syntax
from rich.text import Text

from drill.errors import DrillError
from drill.exercises.code import registry
from drill.exercises.code.grading import Report
from drill.exercises.code.spec import CodeExercise
from drill.home.config import Config
from drill.home.paths import get_paths
from drill.model import Card, Rating
from drill.ui.card_view import COMMANDS, Asked, card_markdown
from drill.ui.keys import ENTER, Keys

SKIP = "skip"  # not a key: the study screen skips the card (no command matches it)
_HINT = "Enter: edit and run the tests   u: undo   s: suspend   q: quit"
_STYLES = {"  ✓": "green", "  ✗": "red", "  ·": "dim", "  likely slip": "bold yellow"}


def solution_path(card: Card) -> Path:
    """Where the solution file of `card` lives: one per card, under the data folder."""
    return get_paths().data_dir / "code" / card.deck_id / f"{card.id}.py"


def attempt(card: Card, seed: int, console: Console, keys: Keys, config: Config) -> Asked:
    """Show the task, take a solution, run the tests of `seed`; what to grade, or a key."""
    try:
        exercise = registry.load(card.generator or "")
        registry.check_params(exercise.name, card.params)
    except DrillError as error:  # a name or params the loader leaves to `drill lint`
        console.print(Text(f"Skipped {card.key}: {error}.", style="yellow"))
        return Asked(command=SKIP)
    task = card_markdown(exercise.task)
    console.print(Panel(task, title=card.q or exercise.title, title_align="left"))
    path, resumed = _prepare(card, exercise)
    note = " (your last attempt, which did not pass)" if resumed else ""
    console.print(Text(f"Solution file: {path}{note}", style="dim"))
    chosen = _edit(path, console, keys) if keys.is_tty else _ask_path(console, keys)
    if isinstance(chosen, str):  # a command key
        return Asked(command=chosen)
    if chosen is None:  # skipped to the reference solution
        _show_reference(console, exercise)
        return Asked(default=Rating.AGAIN, correct=False)
    try:
        report = _check(exercise, chosen, seed, card, config)
    except DrillError as error:  # Python itself could not be started
        console.print(Text(f"Could not run the tests: {error}", style="yellow"))
        return Asked(command=SKIP)
    _show_report(console, report)
    _keep(path, chosen, report)
    _show_reference(console, exercise)
    default = Rating.GOOD if report.all_passed else Rating.AGAIN
    return Asked(default=default, typed=report.answer_text, correct=report.all_passed)


def _prepare(card: Card, exercise: CodeExercise) -> tuple[Path, bool]:
    """The solution file: the last attempt if one is waiting, else a fresh stub."""
    path = solution_path(card)
    if path.is_file():
        return path, True
    path.parent.mkdir(parents=True, exist_ok=True)
    header = (
        f"# {card.key}: {exercise.title}. Save and close the editor to run the tests.\n"
        f"# The task again: drill code show {exercise.name}\n\n"
    )
    path.write_text(header + exercise.stub, encoding="utf-8")
    return path, False


def _edit(path: Path, console: Console, keys: Keys) -> Path | str:
    """On a terminal: Enter opens the editor; the file is graded once it closes."""
    console.print(Text(_HINT, style="dim"))
    if (key := _wait_for_enter(keys)) is not None:
        return key
    editor = (os.environ.get("VISUAL") or os.environ.get("EDITOR") or "").strip()
    if editor and _run_editor(editor, path, console):
        return path
    if not editor:
        console.print(Text("No $VISUAL or $EDITOR is set.", style="yellow"))
    console.print(f"Edit {path} in any editor and save it, then press Enter to run the tests.")
    key = _wait_for_enter(keys)
    return key if key is not None else path


def _wait_for_enter(keys: Keys) -> str | None:
    """None once Enter is pressed, or the command key pressed instead (u, s, q)."""
    while True:
        key = keys.key()
        if key == ENTER:
            return None
        if key in COMMANDS:
            return key


def _run_editor(editor: str, path: Path, console: Console) -> bool:
    """Open `path` in the editor and wait for it; False (said on screen) if that failed."""
    from drill.home.editor import editor_args

    try:
        command = editor_args(shlex.split(editor, posix=os.name != "nt"), path, None)
        finished = subprocess.run(command, check=False)
    except (OSError, ValueError) as error:
        console.print(Text(f"Could not start the editor {editor!r}: {error}", style="yellow"))
        return False
    if finished.returncode != 0:
        console.print(Text(f"The editor exited with status {finished.returncode}.", "yellow"))
        return False
    return True


def _ask_path(console: Console, keys: Keys) -> Path | str | None:
    """Without a terminal: one line, the path of the file to grade (empty: skip)."""
    while True:
        console.print(Text("Solution file to grade (empty: show the reference): ", "bold"), end="")
        typed = keys.line().strip()
        console.print()  # the typed line is not echoed: what follows starts a line of its own
        if typed.lower() in COMMANDS:
            return typed.lower()
        if not typed:
            return None
        path = Path(typed).expanduser()
        if path.is_file():
            return path
        console.print(Text(f"No file at {path}; type its path again.", style="yellow"))


def _check(exercise: CodeExercise, path: Path, seed: int, card: Card, config: Config) -> Report:
    from drill.exercises.code.checker import check_file

    return check_file(exercise.name, path, seed, card.params, time_limit=config.code_time_limit)


def _show_report(console: Console, report: Report) -> None:
    for line in report.lines():
        style = next((s for prefix, s in _STYLES.items() if line.startswith(prefix)), "")
        console.print(Text(line, style=style))
    verdict = "✓ Every test passed." if report.all_passed else "✗ Not every test passed."
    console.print(Text(verdict, style="bold green" if report.all_passed else "bold red"))


def _keep(attempt_file: Path, graded: Path, report: Report) -> None:
    """A failed attempt waits in the solution file for the next try; a pass is put aside."""
    try:
        if report.all_passed:
            if attempt_file.is_file():
                os.replace(attempt_file, attempt_file.with_suffix(".passed.py"))
        elif graded.resolve() != attempt_file.resolve():
            attempt_file.write_text(graded.read_text(encoding="utf-8"), encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        pass  # the grade stands; only the next review's starting file is affected


def _show_reference(console: Console, exercise: CodeExercise) -> None:
    source = Syntax(exercise.reference.rstrip(), "python", theme="ansi_dark")
    console.print(Panel(source, title="Reference solution", title_align="left"))
