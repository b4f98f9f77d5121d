"""The screens at 40 columns × 15 lines, in a real terminal (tmux): study, the interview and
stats read whole, keys and grades never split, the question stays in sight once the answer
shows, a resize redraws, `?` shows the keys, and a long typed answer is shown whole."""

from __future__ import annotations

import itertools
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")

ROOT = Path(__file__).resolve().parents[1]
WAIT_SECONDS = 30  # generous for a slow machine; a hung screen fails the test
_labels = itertools.count()

ANSWER = " ".join(f"Line {n} of a long answer that wraps." for n in range(1, 13))
DECK = f"""\
id: tiny
title: Tiny
cards:
  - id: long
    q: What is the question that stays in sight?
    a: {ANSWER}
    tags: [interview]
  - id: short
    q: Second question?
    a: Second answer.
    tags: [interview]
"""


def words(lines: list[str]) -> str:
    """The screen's text without box borders, one space between words."""
    return " ".join(" ".join(lines).translate(str.maketrans("│╭╮╰╯─", "      ")).split())


class Tmux:
    """`drill ARGS` in a tmux pane of a given size; keys in, the screen out."""

    def __init__(self, home: Path, width: int, height: int, *args: str, env: dict) -> None:
        self.label = f"drill-test-{os.getpid()}-{next(_labels)}"
        command = shlex.join([sys.executable, "-m", "drill", *args])
        self.env = {**os.environ, **env, "DRILL_HOME": str(home)}
        self.env.pop("TMUX", None)
        size = ["-x", str(width), "-y", str(height)]
        self.tmux("new-session", "-d", *size, "-c", str(ROOT), f"{command}; sleep {WAIT_SECONDS}")

    def tmux(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.label, "-f", os.devnull, *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
            timeout=WAIT_SECONDS,
        )
        return result.stdout

    def screen(self) -> list[str]:
        return self.tmux("capture-pane", "-p").rstrip("\n").split("\n")

    def scrollback(self) -> list[str]:
        return self.tmux("capture-pane", "-p", "-S", "-500").rstrip("\n").split("\n")

    def wait_for(self, text: str, *, scrollback: bool = False, joined: bool = False) -> list[str]:
        """The screen once a line shows `text` (with `joined`: the lines run together)."""
        return self.wait_until(
            lambda lines: any(text in line for line in (["".join(lines)] if joined else lines)),
            f"{text!r} never appeared",
            scrollback=scrollback,
        )

    def wait_until(self, shown, failure: str, *, scrollback: bool = False) -> list[str]:
        """The screen once `shown(lines)` holds and the drawing is done: a busy machine can
        catch a frame half drawn, so the screen must read the same twice, 0.1 s apart."""
        deadline = time.monotonic() + WAIT_SECONDS
        before = None
        while time.monotonic() < deadline:
            lines = self.scrollback() if scrollback else self.screen()
            if shown(lines) and lines == before:
                return lines
            before = lines
            time.sleep(0.1)
        raise AssertionError(f"{failure}:\n" + "\n".join(self.screen()))

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", *keys)

    def resize(self, width: int, height: int) -> None:
        self.tmux("resize-window", "-x", str(width), "-y", str(height))

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.label, "kill-server"], capture_output=True)


@pytest.fixture
def terminal(tmp_path, drill_home):
    decks = tmp_path / "decks"
    decks.mkdir()
    (decks / "tiny.yaml").write_text(DECK, encoding="utf-8")
    opened: list[Tmux] = []

    def open_terminal(width: int, height: int, *args: str) -> Tmux:
        pane = Tmux(drill_home, width, height, *args, env={"DRILL_DECKS": str(decks)})
        opened.append(pane)
        return pane

    yield open_terminal
    for pane in opened:
        pane.close()


def test_study_at_40_by_15_keeps_the_question_in_sight(terminal):
    pane = terminal(40, 15, "study", "tiny")
    front = pane.wait_for("Enter: show answer")
    assert any("tiny/long" in line for line in front)
    assert "What is the question that stays in sight?" in words(front)
    # the keys flow onto two lines without splitting one
    assert "Enter: show answer   u: undo" in front
    assert "s: suspend   q: quit   ?: keys" in front

    pane.keys("Enter")
    back = pane.wait_for("1 again")
    assert "What is the question that stays in sight?" in words(back)
    assert not any("Enter: show answer" in line for line in back)  # the stale hint is gone
    assert any(line.startswith("Line 1 of a long answer") for line in back)
    assert any("more lines (m: more)" in line for line in back)  # too tall: a page at a time
    # the grades and keys at the bottom, each grade whole: "1 again 1m   2 hard 6m   …"
    assert back[-3].startswith("1 again ") and "2 hard " in back[-3] and "3 good " in back[-3]
    assert back[-2].startswith("4 easy ")
    assert back[-1] == "u: undo   s: suspend   q: quit   ?: keys"

    pane.keys("m")
    more = pane.wait_for("(m: from the top)")  # the last page
    assert "Line 12 of a long answer that wraps." in words(more)
    assert any(line.startswith("4 easy") for line in more)  # the grades stay at the bottom

    pane.keys("?")
    keys = pane.wait_for("undo the last answer")
    assert any(line.startswith("1-4") and "again, hard, good, easy" in line for line in keys)

    pane.keys("3")
    pane.wait_for("tiny/short")


def test_study_redraws_when_the_terminal_shrinks(terminal):
    pane = terminal(80, 24, "study", "tiny")
    wide = pane.wait_for("Enter: show answer")
    assert any(len(line) == 80 and line.endswith("╮") for line in wide)
    pane.resize(40, 15)
    narrow = pane.wait_until(
        lambda lines: any(len(line) == 40 and line.endswith("╮") for line in lines), "no redraw"
    )
    assert "Enter: show answer   u: undo" in narrow


def test_the_interview_shows_a_long_answer_whole_and_beside_the_model_answer(terminal):
    pane = terminal(40, 15, "interview", "tiny", "--count", "1", "--seed", "1")
    pane.wait_for("answer>")
    typed = "The start of my answer " + "then much more text " * 4 + "and the end"
    pane.keys("-l", typed)
    # folded over four rows of the terminal, from its first character on
    pane.wait_for(f"] answer> {typed}", joined=True)
    pane.keys("Enter")
    text = words(pane.wait_for("How did you do?", scrollback=True))
    assert text.index("Your answer") < text.index("Model answer")
    assert f"Your answer {typed}" in text


def test_a_question_open_when_the_time_runs_out_is_unanswered(terminal):
    pane = terminal(40, 15, "interview", "tiny", "--minutes", "0.1", "--seed", "1")
    pane.wait_for("left] answer>")
    assert not any("of 50" in line for line in pane.screen())  # --minutes alone: no "of N"
    pane.keys("-l", "half an answer")
    report = pane.wait_for("not scored.", scrollback=True)
    text = words(report)
    assert "Time is up." in text
    assert "Question 1 was open when the time ran out: unanswered, not scored." in text
    assert "wrong" not in text


def test_stats_at_40_columns_fit_without_wrapping(terminal):
    pane = terminal(40, 15, "stats")
    lines = pane.wait_for("less ", scrollback=True)
    legend = next(i for i, line in enumerate(lines) if line.lstrip().startswith("less "))
    assert "the last" in lines[legend] and "weeks" in lines[legend]
    heatmap = lines[legend - 7 : legend]  # Monday to Sunday, a line each: nothing wrapped
    assert [line[:4] for line in heatmap] == [
        "Mon ",
        "    ",
        "Wed ",
        "    ",
        "Fri ",
        "    ",
        "    ",
    ]
    axis = next(line for line in lines if line.lstrip().startswith("today"))
    assert len(axis) <= 40
    cards = lines[lines.index("Cards") + 1]
    assert cards.startswith("new ") and "…" not in cards  # counts whole, not "lea…"


def test_due_at_40_columns_puts_a_long_deck_id_above_its_counts(terminal):
    pane = terminal(40, 40, "due")
    lines = pane.wait_for("still due today", scrollback=True)
    assert lines[0].split() == ["deck", "new", "learn", "review", "later"]
    at = lines.index("llm-pretraining-scaling")  # whole, on a line of its own
    assert lines[at + 1].split() == ["20", "0", "0", "0"]
    assert any(line.split()[:2] == ["intro", "20"] for line in lines)  # short ids stay inline
    total = next(line for line in lines if line.startswith("total"))
    assert len(total) == len(lines[at + 1])  # the counts line up
