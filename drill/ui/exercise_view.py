"""Asking for a typed answer to an exercise and showing the outcome: shared by study and
the mock interview, so both grade, re-ask and explain the same way."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from drill.exercises.base import Exercise
from drill.exercises.grading import ParseError, Verdict, check, format_value

if TYPE_CHECKING:
    from drill.exercises.guided import GuidedRun


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


def ask_steps(console: Console, read: Callable[[], str], exercise: Exercise) -> GuidedRun:
    """Guided study: ask each step of the exercise in order and check it as typed.

    A wrong or skipped (empty) step shows the right value and the rule that gives it, and
    the next step builds on that value. Ends with the score and the worked solution.
    """
    from drill.exercises.guided import GuidedRun

    run = GuidedRun(exercise)
    total = len(run.steps)
    console.print(
        Text(
            f"Guided: {total} steps, forward pass then backward. Type each value (empty: show it).",
            "dim",
        )
    )
    while (step := run.current) is not None:
        console.print(Text(f"Step {run.position + 1} of {total}: {step.name} = ?", "bold"))
        while True:
            typed = read()
            try:
                result = run.answer(typed)
                break
            except ParseError as error:
                console.print(Text(f"Could not read that: {error}. Try again.", "yellow"))
        value = format_value(step.value)
        rule = f"{step.rule} = " if step.rule else ""
        if result.correct:
            console.print(Text(f"✓ {step.name} = {value}", "green"))
            continue
        verdict = result.verdict
        heading = "✗ Not quite:" if verdict is not None else "Shown:"
        console.print(Text(f"{heading} {step.name} = {rule}{value}", "red"))
        if verdict is not None:
            for line in (verdict.note, verdict.slip and f"Likely slip: {verdict.slip}."):
                if line:
                    console.print(Text(line, "yellow"))
    console.print(Text(steps_summary(run), "bold"))
    solution = Text("\n".join(exercise.solution))
    console.print(Panel(solution, title="Worked solution", title_align="left"))
    return run


def steps_summary(run: GuidedRun) -> str:
    """ "All 7 steps right." or "5 of 7 steps right; the first miss: ∂L/∂z1." """
    total = len(run.steps)
    if run.first_miss is None:
        return f"All {total} steps right."
    return f"{run.right} of {total} steps right; the first miss: {run.steps[run.first_miss].name}."
