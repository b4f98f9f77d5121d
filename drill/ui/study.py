"""The study screen: shows each card, reads keys, and hands grades to the Session."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from rich.console import Console, Group
from rich.text import Text

from drill.errors import DrillError
from drill.model import Card, CardType, Rating
from drill.review.scheduler import format_interval
from drill.review.session import Session, Summary, Suspended
from drill.ui import card_view
from drill.ui.card_view import GRADE_STYLE, card_markdown
from drill.ui.due_view import next_due_text  # shared with `drill due`
from drill.ui.keys import ENTER, QUIT, RESIZE, Keys
from drill.ui.screen import Box, Flow, Screen, Title, keys_help

GRADE_KEYS = {str(int(r)): r for r in Rating}
KEYS_HELP = (  # what `?` shows; short enough for 40 columns
    ("Enter", "show answer; take grade *"),
    ("1-4", "again, hard, good, easy"),
    ("u", "undo the last answer"),
    ("s", "suspend the card"),
    ("q", "quit (Ctrl-C, Ctrl-D too)"),
    ("m", "more of a long screen"),
    ("answer>", "u s q m ? alone: keys"),
)


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
    def __init__(
        self, session: Session, console: Console, keys: Keys, guided_steps: bool = False
    ) -> None:
        self.session = session
        self.console = console
        self.keys = keys
        self.guided_steps = guided_steps  # compute cards with steps: asked step by step
        self._notices: list[Text] = []  # shown above the next card (the screen is cleared)
        # On a terminal the screen is drawn again after a resize, after `?`, and without
        # the stale key hint once the answer shows (drill.ui.screen).
        self.screen = Screen(console, live=keys.is_tty)
        self._redrawable = True  # False once another view printed outside the screen

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
        self.screen.start(*self._notices)  # a cleared screen on a terminal
        self._notices.clear()
        self._redrawable = True
        new, learning, review = self.session.remaining()
        status = Flow(
            [
                Text(f"new {new}", style="blue"),
                Text(f"learning {learning}", style="red"),
                Text(f"review {review}", style="green"),
                Text(f"done {self.session.summary.reviewed}", style="dim"),
            ],
            gap=" · ",
        )
        self.screen.print(Title(card.key))
        self.screen.print(status)
        if self.session.note:  # custom study, or an interview date shortening intervals
            self.screen.print(Text(self.session.note, style="dim"))
        if card.type is CardType.COMPUTE:
            return self._compute(card)
        if card.type is CardType.CODE:  # edit, run the tests, grade: drill.ui.code_view
            return self._code(card)
        if card_view.handles(card):  # cloze, choice and typed-answer cards
            self._redrawable = False
            asked = card_view.ask(card, self.console, self.keys, self.session.rng, self._command)
            return self._asked(card, asked)
        self.screen.print(Box(card_markdown(card.q), "Question"))
        hint = _hints("Enter: show answer")
        self.screen.print(hint, footer=True)
        while True:
            key = self.keys.key()
            if key == ENTER:
                break
            if step := self._command(key):
                return step
        self.screen.drop(hint)  # its keys are done with: drawn again without it
        self.screen.redraw()
        self._print_answer(card)
        return self._grade(card, default=None)

    def _print_answer(self, card: Card) -> None:
        parts: list = [card_markdown(card.a)]
        if card.ref:
            parts.append(Text(f"\n{card.ref}", style="dim italic"))
        self.screen.print(Box(Group(*parts), "Answer"))

    def _code(self, card: Card) -> Step:
        from drill.ui.code_view import attempt

        self._redrawable = False
        seed = self.session.exercise_seed(card)  # after an undo: the tests answered
        step = self._asked(card, attempt(card, seed, self.console, self.keys, self.session.config))
        if step.action == "grade":
            step.seed = seed
        return step

    def _asked(self, card: Card, asked: card_view.Asked) -> Step:
        if asked.command is not None:
            return self._command(asked.command) or Step("skip")
        step = self._grade(card, default=asked.default)
        if step.action == "grade":
            step.typed, step.correct = asked.typed, asked.correct
        return step

    def _grade(self, card: Card, default: Rating | None) -> Step:
        self.screen.print(self._grade_bar(card, default), footer=True)
        while True:
            key = self.keys.key()
            if key in GRADE_KEYS:
                return Step("grade", GRADE_KEYS[key])
            if key == ENTER and default is not None:
                return Step("grade", default)
            if step := self._command(key):
                return step

    def _grade_bar(self, card: Card, default: Rating | None) -> Group:
        """The grades with their next intervals, then the keys; as many a line as fit."""
        grades = []
        for rating, delta in self.session.intervals(card).items():
            marker = "*" if rating is default else ""
            grade = Text(f"{int(rating)} {rating.name.lower()}{marker}", GRADE_STYLE[rating])
            grades.append(grade.append(f" {format_interval(delta)}", style="dim"))
        first = f"Enter: {default.name.lower()}" if default is not None else None
        return Group(Flow(grades), _hints(first))

    def _command(self, key: str) -> Step | None:
        if key == QUIT:
            raise Quit
        if key == "u":
            return Step("undo")
        if key == "s":
            return Step("suspend")
        if key == "?" and not self.screen.shows("Keys"):
            self.screen.print(keys_help(KEYS_HELP), scroll=True)
        elif key == "m":
            self.screen.more()
        elif key == RESIZE and self._redrawable:
            self.screen.redraw()
        return None

    # -- compute cards -----------------------------------------------------------------

    def _read_answer(self) -> str:
        """A typed answer; `u`, `s` and `q` alone act as at the card's other prompts."""
        while True:
            self.console.print(Text("answer> ", style="bold"), end="")
            typed = self.keys.line()
            if typed.strip().lower() not in ("u", "s", "q", "m", "?"):
                # what comes next answers it: a screen shown in pages shows it from here
                self.screen.remember(Text("answer> ", style="bold") + Text(typed), scroll=True)
                return typed
            step = self._command(typed.strip().lower())
            if step is not None:
                raise _KeyTyped(step)

    def _compute(self, card: Card) -> Step:
        from drill.exercises import make
        from drill.ui.exercise_view import ask_answer, ask_steps, show_outcome

        seed = self.session.exercise_seed(card)  # after an undo: the exercise answered
        try:
            exercise = make(card.generator or "", seed, card.params)
        except ImportError:
            note = f"Skipped {card.key}: generator {card.generator!r} is not available yet."
            self.console.print(Text(note, style="yellow"))
            return Step("skip")
        except DrillError as error:  # params the loader leaves to `drill lint` to check
            self.console.print(Text(f"Skipped {card.key}: {error}.", style="yellow"))
            return Step("skip")
        self.screen.print(Box(Text(exercise.question), card.q or "Compute"))
        guided = self.guided_steps and bool(exercise.steps)
        empty = "show the step" if guided else "show the solution"
        hint = Text(f"Type your answer and Enter (empty: {empty}; ?: keys)", "dim")
        self.screen.print(hint, footer=True)
        try:  # the screen stands in for the console, so that it can draw it all again
            if guided:
                run = ask_steps(self.screen, self._read_answer, exercise)  # type: ignore[arg-type]
                typed, correct, default = run.final_typed, run.correct, run.proposal()
            else:
                typed, verdict = ask_answer(self.screen, self._read_answer, exercise)  # type: ignore[arg-type]
                correct = show_outcome(self.screen, exercise, verdict)  # type: ignore[arg-type]
                default = Rating.GOOD if correct else Rating.AGAIN
        except _KeyTyped as key:
            return key.step
        self.screen.drop(hint)
        step = self._grade(card, default=default)
        if step.action == "grade":
            step.seed, step.correct = seed, correct
            step.typed = typed
        return step


class _KeyTyped(Exception):
    """`u` or `s` typed alone at the answer> prompt: a command, not an answer."""

    def __init__(self, step: Step) -> None:
        self.step = step


def _hints(first: str | None = None) -> Flow:
    """The keys of the moment, dim, as many a line as fit."""
    hints = [first] if first else []
    hints += ["u: undo", "s: suspend", "q: quit", "?: keys"]
    return Flow([Text(hint) for hint in hints], style="dim")


def render_summary(summary: Summary, console: Console, now: datetime) -> None:
    grades = "  ".join(
        f"{rating.name.lower()} {summary.grades[rating]}"
        for rating in Rating
        if summary.grades[rating]
    )
    line = f"Reviewed {summary.reviewed} card{'s' * (summary.reviewed != 1)}"
    line += f" in {_duration(summary.answering)}"  # as `drill stats` counts time
    if grades:
        line += f" ({grades})"
    console.print(Text(line + ".", style="bold"))
    if summary.compute:
        # Compute exercises, and the typed and multiple-choice answers drill checked.
        console.print(f"Answers checked: {summary.correct} of {summary.compute} correct.")
    console.print(next_due_text(summary.remaining, summary.next_due, now))


def _duration(delta: timedelta) -> str:
    seconds = round(delta.total_seconds())  # rounded, as `drill stats` shows time
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"
