"""Asking for a typed answer to an exercise and showing the outcome: shared by study and
the mock interview, so both grade, re-ask and explain the same way."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from drill.exercises.base import Exercise
from drill.exercises.grading import ParseError, Verdict, check, format_value
from drill.model import Rating

GRADE_STYLE = {
    Rating.AGAIN: "bold red",
    Rating.HARD: "bold yellow",
    Rating.GOOD: "bold green",
    Rating.EASY: "bold cyan",
}


def ask_answer(
    console: Console, read: Callable[[], str], exercise: Exercise
) -> tuple[str | None, Verdict | None]:
    """Read answers until one parses; an unreadable one is asked again, never graded.

    Returns (typed, verdict), or (None, None) when the user gave no answer (empty line).
    """
    while True:
        typed = read()
        if not typed.strip():
            return None, None
        try:
            return typed, check(typed, exercise)
        except ParseError as error:
            console.print(Text(f"Could not read that: {error}. Try again.", "yellow"))


def show_outcome(console: Console, exercise: Exercise, verdict: Verdict | None) -> bool:
    """Right or wrong (with a likely slip), the true value and the worked solution."""
    if verdict is None:
        console.print(Text("No answer given.", style="yellow"))
    elif verdict.correct:
        console.print(Text("✓ Correct.", style="bold green"))
    else:
        console.print(Text("✗ Not quite.", style="bold red"))
        for line in (verdict.note, verdict.slip and f"Likely slip: {verdict.slip}."):
            if line:
                console.print(Text(line, style="yellow"))
    console.print(Text(f"True value: {format_value(exercise.answer)}"))
    solution = Text("\n".join(exercise.solution))
    console.print(Panel(solution, title="Worked solution", title_align="left"))
    return bool(verdict and verdict.correct)
