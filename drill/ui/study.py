"""The study screen: shows each card, reads keys, and hands grades to the Session."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from rich.console import Console, Group
from rich.markdown import Markdown
from rich.panel import Panel
from rich.rule import Rule
from rich.text import Text

from drill.errors import DrillError
from drill.model import Card, CardType, Rating
from drill.review.scheduler import format_interval
from drill.review.session import Session, Summary, Suspended
from drill.ui.due_view import next_due_text  # shared with `drill due`
from drill.ui.exercise_view import GRADE_STYLE
from drill.ui.keys import ENTER, QUIT, Keys

GRADE_KEYS = {str(int(r)): r for r in Rating}


class Quit(Exception):
    """The user asked to end the session."""


@dataclass
class Step:
    """What the user chose on a card: a grade (with compute details), undo, suspend or skip."""

    action: str  # "grade", "undo", "suspend", "skip"
    rating: Rating | None = None
    seed: int | None = None
    typed: str | None = None
    correct: bool | None = None


class StudyScreen:
    def __init__(self, session: Session, console: Console, keys: Keys) -> None:
        self.session = session
        self.console = console
        self.keys = keys
        self._notices: list[Text] = []  # shown above the next card (the screen is cleared)

    def run(self) -> Summary:
        """Review until nothing is due, the user quits, input ends, or Ctrl-C."""
        try:
            self._loop()
        except (Quit, EOFError, KeyboardInterrupt):
            self.console.print()
        self._print_notices()  # one about the last card (a leech) has no next card to wait for
        return self.session.finish()

    def _loop(self) -> None:
        while (card := self.session.next_card()) is not None:
            started = time.monotonic()
            step = self._show(card)
            if step.action == "undo":
                self._undo()
            elif step.action == "suspend":
                self.session.suspend(card)
                self._notify(f"Suspended {card.key}.", "yellow")
            elif step.action == "skip":
                self.session.skip(card)
            elif step.rating is not None:
                elapsed = round((time.monotonic() - started) * 1000)
                answered = self.session.answer(
                    card,
                    step.rating,
                    duration_ms=elapsed,
                    seed=step.seed,
                    typed=step.typed,
                    correct=step.correct,
                )
                if answered.became_leech:
                    action = "suspended" if answered.after.suspended else "tagged"
                    self._notify(
                        f"{card.key} has lapsed {answered.after.lapses} times: it is a "
                        f"leech and was {action}. Rewrite or split it.",
                        "bold magenta",
                    )

    def _undo(self) -> None:
        last = self.session.history[-1] if self.session.history else None
        undone = self.session.undo()
        if undone is None:
            message = "Nothing to undo."
        elif isinstance(last, Suspended):
            message = f"Unsuspended {undone.key}."
        else:
            message = f"Undid the answer to {undone.key}."
        self._notify(message, "yellow")

    def _notify(self, message: str, style: str) -> None:
        notice = Text(message, style=style)
        if self.keys.is_tty:
            self._notices.append(notice)
        else:
            self.console.print(notice)

    def _print_notices(self) -> None:
        for notice in self._notices:
            self.console.print(notice)
        self._notices.clear()

    # -- one card ----------------------------------------------------------------------

    def _show(self, card: Card) -> Step:
        if self.keys.is_tty:
            self.console.clear()
            self._print_notices()
        new, learning, review = self.session.remaining()
        status = Text()
        status.append(f"new {new}", style="blue")
        status.append("  ·  ")
        status.append(f"learning {learning}", style="red")
        status.append("  ·  ")
        status.append(f"review {review}", style="green")
        status.append(f"  ·  done {self.session.summary.reviewed}", style="dim")
        self.console.print(Rule(Text(card.key, style="dim")))
        self.console.print(status)
        if card.type is CardType.COMPUTE:
            return self._compute(card)
        self.console.print(Panel(Markdown(card.q), title="Question", title_align="left"))
        self.console.print(Text("Enter: show answer   u: undo   s: suspend   q: quit", "dim"))
        while True:
            key = self.keys.key()
            if key == ENTER:
                break
            if step := self._command(key):
                return step
        self._print_answer(card)
        return self._grade(card, default=None)

    def _print_answer(self, card: Card) -> None:
        parts: list = [Markdown(card.a)]
        if card.ref:
            parts.append(Text(f"\n{card.ref}", style="dim italic"))
        self.console.print(Panel(Group(*parts), title="Answer", title_align="left"))

    def _grade(self, card: Card, default: Rating | None) -> Step:
        self.console.print(self._grade_bar(card, default))
        while True:
            key = self.keys.key()
            if key in GRADE_KEYS:
                return Step("grade", GRADE_KEYS[key])
            if key == ENTER and default is not None:
                return Step("grade", default)
            if step := self._command(key):
                return step

    def _grade_bar(self, card: Card, default: Rating | None) -> Text:
        bar = Text()
        for rating, delta in self.session.intervals(card).items():
            marker = "*" if rating is default else " "
            bar.append(f" {int(rating)}", style=GRADE_STYLE[rating])
            bar.append(f" {rating.name.lower()}{marker}", style=GRADE_STYLE[rating])
            bar.append(f" {format_interval(delta)}   ", style="dim")
        hint = "u: undo   s: suspend   q: quit"
        if default is not None:
            hint = f"Enter: {default.name.lower()}   " + hint
        bar.append(f"\n {hint}", style="dim")
        return bar

    def _command(self, key: str) -> Step | None:
        if key == QUIT:
            raise Quit
        if key == "u":
            return Step("undo")
        if key == "s":
            return Step("suspend")
        return None

    # -- compute cards -----------------------------------------------------------------

    def _read_answer(self) -> str:
        self.console.print(Text("answer> ", style="bold"), end="")
        typed = self.keys.line()
        if typed.strip().lower() == QUIT:
            raise Quit
        return typed

    def _compute(self, card: Card) -> Step:
        from drill.exercises import make
        from drill.ui.exercise_view import ask_answer, show_outcome

        seed = self.session.new_seed()
        try:
            exercise = make(card.generator or "", seed, card.params)
        except ImportError:
            note = f"Skipped {card.key}: generator {card.generator!r} is not available yet."
            self.console.print(Text(note, style="yellow"))
            return Step("skip")
        except DrillError as error:  # params the loader leaves to `drill lint` to check
            self.console.print(Text(f"Skipped {card.key}: {error}.", style="yellow"))
            return Step("skip")
        title = card.q or "Compute"
        self.console.print(Panel(Text(exercise.question), title=title, title_align="left"))
        self.console.print(
            Text("Type your answer and Enter (empty: show the solution; q: quit)", "dim")
        )
        typed, verdict = ask_answer(self.console, self._read_answer, exercise)
        correct = show_outcome(self.console, exercise, verdict)
        step = self._grade(card, default=Rating.GOOD if correct else Rating.AGAIN)
        if step.action == "grade":
            step.seed, step.correct = seed, correct
            step.typed = typed
        return step


def render_summary(summary: Summary, console: Console, now: datetime) -> None:
    grades = "  ".join(
        f"{rating.name.lower()} {summary.grades[rating]}"
        for rating in Rating
        if summary.grades[rating]
    )
    line = f"Reviewed {summary.reviewed} card{'s' * (summary.reviewed != 1)}"
    line += f" in {_duration(summary.elapsed)}"
    if grades:
        line += f" ({grades})"
    console.print(Text(line + ".", style="bold"))
    if summary.compute:
        console.print(f"Compute exercises: {summary.correct} of {summary.compute} correct.")
    console.print(next_due_text(summary.remaining, summary.next_due, now))


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"
