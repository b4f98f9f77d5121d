"""The mock interview in the terminal: a question, a running timer, the answer, a report.

On a terminal the answer line shows the time ticking (and the budget left) while the user
types. When input is piped, each step reads one line, as in `drill study`: the typed
answer, then for an interview question the self-score (1-4, y or n). `q` alone quits.
"""

from __future__ import annotations

import codecs
import math
import os
from collections.abc import Callable, Mapping, Sequence
from typing import TextIO

from rich.cells import cell_len
from rich.console import Console, Group
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from drill.exercises.base import Exercise
from drill.interview import Interview, Question, Report, Result, Weakness
from drill.model import Rating
from drill.ui.card_view import GRADE_STYLE, card_markdown  # math as Unicode, HTML as text
from drill.ui.exercise_view import ask_answer, show_outcome
from drill.ui.keys import QUIT, Keys
from drill.ui.screen import Box, Title

SELF_SCORES = {
    "1": Rating.AGAIN,
    "2": Rating.HARD,
    "3": Rating.GOOD,
    "4": Rating.EASY,
    "n": Rating.AGAIN,
    "y": Rating.GOOD,
}
TICK_SECONDS = 0.2
NARROW = 70  # columns below which the report's tables give up a column


class Quit(Exception):
    """The user asked to end the interview."""


class TimeUp(Exception):
    """The time ran out while an answer was being typed."""


def clock_text(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


class InterviewScreen:
    def __init__(
        self,
        interview: Interview,
        console: Console,
        keys: Keys,
        exercises: Mapping[int, Exercise],
    ) -> None:
        self.interview = interview
        self.console = console
        self.keys = keys
        self.exercises = exercises

    def run(self) -> Report:
        """Ask until every question is answered, time is up, the user quits or input ends."""
        try:
            while (question := self.interview.next_question()) is not None:
                result = self._ask(question)
                self._after(result)
        except TimeUp:
            self.interview.expire()  # the open question is unanswered, not wrong
        except (Quit, EOFError, KeyboardInterrupt):
            self.interview.quit()
            self.console.print()
        report = self.interview.report()
        if report.time_up:
            self.console.print(Text("Time is up.", style="bold yellow"))
        return report

    # -- one question ------------------------------------------------------------------

    def _ask(self, question: Question) -> Result:
        # With --minutes alone the questions are a pool: "of 50" would mean nothing.
        total = "" if self.interview.until_time_is_up else f" of {len(self.interview.questions)}"
        self.console.print(Title(f"Question {question.number}{total} · {question.card.key}"))
        if question.is_compute:
            return self._compute(question, self.exercises[question.number])
        self.console.print(Box(card_markdown(question.card.q), "Question"))
        self.console.print(Text("Answer as you would out loud; Enter alone to skip.", "dim"))
        typed = self._read_answer()
        self._print_answer(question, typed)
        rating = self._self_score()
        return self.interview.answer(question, rating, typed=typed or None)

    def _compute(self, question: Question, exercise: Exercise) -> Result:

        self.console.print(Box(Text(exercise.question), "Compute"))
        typed, verdict = ask_answer(self.console, self._read_answer, exercise)
        correct = show_outcome(self.console, exercise, verdict)
        rating = Rating.GOOD if correct else Rating.AGAIN
        return self.interview.answer(question, rating, typed=typed, correct=correct)

    def _read_answer(self) -> str:
        """One typed answer, timed; `q` alone quits."""
        if self.keys.is_tty and os.name != "nt":
            line = TimedLine(self.keys.stream, self.console, self._timer_label)
            typed = line.read(stop=lambda: self.interview.time_left() == 0)
            if line.stopped:
                raise TimeUp
        else:
            self.console.print(self._timer_label(), end="")
            typed = self.keys.line()
            if not self.keys.is_tty:  # piped: echo the answer, so the transcript reads well
                self.console.print(Text(typed, style="dim"))
        if typed.strip().lower() == QUIT:
            raise Quit
        return typed

    def _timer_label(self) -> Text:
        label = Text(f"[{clock_text(self.interview.elapsed())}", style="cyan")
        left = self.interview.time_left()
        if left is not None:
            # counting down, a second is shown until it has fully passed
            shown = clock_text(math.ceil(left))
            label.append(f" · {shown} left", style="red" if left < 60 else "cyan")
        label.append("] ", style="cyan")
        label.append("answer> ", style="bold")
        return label

    def _print_answer(self, question: Question, typed: str) -> None:
        """The user's answer, whole, above the model answer, to compare the two."""
        if typed.strip():
            self.console.print(Box(Text(typed.strip()), "Your answer"))
        parts: list = [card_markdown(question.card.a)]
        if question.card.ref:
            parts.append(Text(f"\n{question.card.ref}", style="dim italic"))
        self.console.print(Box(Group(*parts), "Model answer"))

    def _self_score(self) -> Rating:
        self.console.print(
            Text("How did you do?  1 again  2 hard  3 good  4 easy  (y: good, n: again)", "dim")
        )
        while True:
            key = self.keys.key()
            if key == QUIT:
                raise Quit
            if key in SELF_SCORES:
                return SELF_SCORES[key]

    def _after(self, result: Result) -> None:
        line = Text(f"Answered in {clock_text(result.seconds)}", style="dim")
        line.append(f"  ·  {result.rating.name.lower()}", style=GRADE_STYLE[result.rating])
        self.console.print(line)
        if result.became_leech:
            self.console.print(
                Text(
                    f"{result.question.card.key} is now a leech: rewrite or split it.",
                    style="bold magenta",
                )
            )


class TimedLine:
    """A one-line editor for a terminal that redraws the timer while the user types.

    Handles printable characters, Backspace, Ctrl-U (clear), Enter, and Ctrl-D on an empty
    line (end of input); other control keys and escape sequences are ignored.
    """

    def __init__(self, stream: TextIO, console: Console, label: Callable[[], Text]) -> None:
        self.stream = stream
        self.console = console
        self.label = label
        self.text = ""
        self.stopped = False  # whether `stop()` ended the line, not Enter
        self._shown = ""  # what is on screen now, to redraw only on a change
        self._rows = 1  # terminal rows it takes: the cursor is on the last

    def read(self, stop: Callable[[], bool]) -> str:
        """The line typed, when Enter is pressed or `stop()` turns true (time is up)."""
        import select
        import termios
        import tty

        fd = self.stream.fileno()
        saved = termios.tcgetattr(fd)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        try:
            tty.setcbreak(fd)
            while not (stopped := stop()):
                self._draw()
                ready, _, _ = select.select([fd], [], [], TICK_SECONDS)
                if ready and self._feed(decoder.decode(os.read(fd, 64))):
                    break
            self.stopped = stopped
        finally:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)
            self._draw()
            self.console.file.write("\n")
            self._shown = ""
            self.console.file.flush()
        return self.text

    def _feed(self, chars: str) -> bool:
        """Apply typed characters; True once Enter is pressed."""
        escape = False
        for char in chars:
            if escape:  # skip the rest of an escape sequence (arrow keys and the like)
                escape = not char.isalpha() and char != "~"
            elif char == "\x1b":
                escape = True
            elif char in "\r\n":
                return True
            elif char in "\x7f\b":
                self.text = self.text[:-1]
            elif char == "\x15":
                self.text = ""
            elif char == "\x04" and not self.text:
                raise EOFError
            elif char.isprintable():
                self.text += char
        return False

    def _draw(self) -> None:
        """The timer and the whole answer so far, folded over as many rows as it takes."""
        rows = fold(self.label() + Text(self.text), self.console.width)
        with self.console.capture() as capture:
            for number, row in enumerate(rows):
                self.console.print(row, end="" if number == len(rows) - 1 else "\n")
        drawn = capture.get().replace("\n", "\r\n")
        if drawn != self._shown:
            up = f"\x1b[{self._rows - 1}A" if self._rows > 1 else ""
            # back to the first row of the last drawing, clear to the end, draw again
            self.console.file.write(f"{up}\r\x1b[J{drawn}")
            self.console.file.flush()
            self._shown, self._rows = drawn, len(rows)


def fold(text: Text, width: int) -> list[Text]:
    """`text` cut into rows of at most `width` cells, character by character (not at
    words, so the cursor stays where the next typed character goes)."""
    rows: list[Text] = []
    start = used = 0
    for index, char in enumerate(text.plain):
        cells = cell_len(char)
        if used + cells > width:
            rows.append(text[start:index])
            start, used = index, 0
        used += cells
    rows.append(text[start:])
    return rows


# -- the report ---------------------------------------------------------------------------


def render_report(report: Report, console: Console) -> None:
    console.print()
    console.print(Rule(Text("Interview report", style="bold")))
    if report.unanswered is not None:
        console.print(
            Text(f"Question {report.unanswered.number} was open when the time ran out: ")
            + Text("unanswered", style="yellow")
            + Text(", not scored.")
        )
    if not report.results:
        console.print("No question was answered.")
        return
    answered = len(report.results)
    line = Text(f"Score: {report.score:g} / {answered}", style="bold")
    line.append(f" ({report.share:.0%})  in {clock_text(report.seconds)}")
    if report.planned is not None and answered < report.planned:
        line.append(f"  ·  {answered} of {report.planned} questions answered", style="yellow")
    console.print(line)
    console.print(_results_table(report, wide=console.width >= NARROW))
    _weaknesses(console, "Weakest decks", report.weakest_decks)
    _weaknesses(console, "Weakest tags", report.weakest_tags)
    if report.study_next:
        console.print(Text("\nStudy next", style="bold"))
        table = Table(box=None, show_header=False, padding=(0, 1, 0, 2))
        table.add_column("command", overflow="fold")  # whole, to be copied
        if console.width >= NARROW:
            table.add_column("why", style="dim")
        for suggestion in report.study_next:
            if console.width >= NARROW:
                table.add_row(suggestion.command, suggestion.reason)
            else:  # the reason under its command
                table.add_row(Text(suggestion.command) + Text(f"\n  {suggestion.reason}", "dim"))
        console.print(table)
    else:
        console.print(Text("\nNothing missed. Try a longer interview or other decks.", "green"))
    if report.recorded:
        console.print(Text("\nEvery answer was recorded as a review.", style="dim"))
    else:
        console.print(
            Text("\nNothing was recorded: add --record to update the schedule.", style="dim")
        )


def _results_table(report: Report, wide: bool = True) -> Table:
    """A row per question; on a narrow screen without the kind, and keys folded, not cut."""
    table = Table(box=None, pad_edge=False)
    table.add_column("#", justify="right")
    table.add_column("card", overflow="fold")
    if wide:
        table.add_column("kind")
    table.add_column("time", justify="right")
    table.add_column("result", no_wrap=True)
    rows: list[tuple[Question, str, Text]] = []
    for result in report.results:
        if result.correct is None:
            outcome = Text(result.rating.name.lower(), style=GRADE_STYLE[result.rating])
        else:
            outcome = Text("right", "green") if result.correct else Text("wrong", "red")
        rows.append((result.question, clock_text(result.seconds), outcome))
    if report.unanswered is not None:
        rows.append((report.unanswered, "", Text("unanswered", "yellow")))
    for question, seconds, outcome in rows:
        kind = (question.card.generator or "") if question.is_compute else "question"
        key = question.card.key if wide else question.card.key.replace("/", "/\n", 1)
        cells = [str(question.number), key, *([kind] if wide else []), seconds]
        table.add_row(*cells, outcome)
    return table


def _weaknesses(console: Console, title: str, weaknesses: Sequence[Weakness]) -> None:
    if not weaknesses:
        return
    shown = ", ".join(f"{w.name} {w.points:g}/{w.questions}" for w in weaknesses)
    console.print(Text(f"{title}: ", style="bold") + Text(shown))
