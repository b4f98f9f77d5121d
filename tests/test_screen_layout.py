"""drill.ui.screen without a terminal: rows of keys flow whole, boxes give up their border
before their title, and a screen taller than the terminal keeps its footer and pages; the
interview's report says which question the time ran out on, and no "of 50"."""

from __future__ import annotations

import io

from rich.console import Console
from rich.text import Text

from drill.interview import Interview, Question
from drill.model import Card, Rating
from drill.ui.interview_view import render_report
from drill.ui.screen import Box, Flow, Screen, Title, flow_lines

KEYS = [Text(key) for key in ("Enter: show answer", "u: undo", "s: suspend", "q: quit")]


def rendered(item, width: int = 40) -> list[str]:
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    console.print(item)
    return console.export_text().rstrip("\n").split("\n")


def test_a_flow_never_splits_an_item():
    assert [line.plain for line in flow_lines(KEYS, 80)] == [
        "Enter: show answer   u: undo   s: suspend   q: quit"
    ]
    assert [line.plain for line in flow_lines(KEYS, 40)] == [
        "Enter: show answer   u: undo",
        "s: suspend   q: quit",
    ]
    assert rendered(Flow(KEYS), width=20) == [
        "Enter: show answer",
        "u: undo   s: suspend",
        "q: quit",
    ]


def test_a_box_keeps_its_title_and_loses_its_border_first():
    assert rendered(Box(Text("body"), "Question"))[0].startswith("╭─ Question ─")
    assert rendered(Box(Text("body"), "Question", compact=True)) == ["Question", "body"]
    long_title = "One gradient of a small ReLU network trained with mean squared error"
    inside = rendered(Box(Text("body"), long_title))
    assert inside[0] == "╭" + "─" * 38 + "╮"  # the title moved in, whole
    assert "One gradient of a small ReLU network" in " ".join(inside)


def test_a_title_too_long_for_a_rule_is_a_plain_line():
    assert rendered(Title("deck/card"))[0].startswith("─")
    key = "llm-pretraining-scaling/chinchilla-optimal"
    assert rendered(Title(key)) == [key[:40], key[40:]]


def test_a_screen_taller_than_the_terminal_pages_above_its_footer():
    out = io.StringIO()
    console = Console(width=40, height=15, file=out, force_terminal=True, color_system=None)
    screen = Screen(console, live=True)
    screen.start(Title("deck/card"))
    screen.print(Box(Text("What is the question?"), "Question"))
    screen.print(Box(Text("\n".join(f"answer line {n}" for n in range(1, 21))), "Answer"))
    screen.print(Flow(KEYS), footer=True)
    last = out.getvalue().split("\x1b[2J")[-1]  # what the last redraw drew
    lines = [line for line in last.replace("\x1b[H", "").split("\n") if line]
    assert len(lines) <= 14  # the cursor's line stays free
    assert "Question" in lines and "What is the question?" in lines  # compact, still there
    assert lines[-3:] == [
        "… 13 more lines (m: more)",
        "Enter: show answer   u: undo",
        "s: suspend   q: quit",
    ]
    assert screen.more()
    assert "… 2 more lines (m: more)" in out.getvalue().split("\x1b[2J")[-1]
    assert screen.more()
    last = out.getvalue().split("\x1b[2J")[-1]
    assert "answer line 20" in last and "(m: from the top)" in last
    assert screen.more()  # round to the first page
    assert "What is the question?" in out.getvalue().split("\x1b[2J")[-1]
    assert Screen(console, live=False).more() is False


def test_the_report_names_the_question_the_time_ran_out_on():
    questions = [Question(n, Card("d", f"q{n}", q="Q?", a="A."), ()) for n in (1, 2, 3)]
    now = [0.0]
    mock = Interview(questions, budget_seconds=60, clock=lambda: now[0], until_time_is_up=True)
    mock.answer(mock.next_question(), Rating.GOOD)
    mock.next_question()
    now[0] = 61.0
    mock.expire()
    assert mock.next_question() is None
    report = mock.report()
    assert (report.time_up, report.planned, len(report.results)) == (True, None, 1)
    assert report.unanswered == questions[1]
    assert report.to_dict()["unanswered"] == 2 and report.to_dict()["planned"] is None
    console = Console(width=40, record=True, file=io.StringIO(), color_system=None)
    render_report(report, console)
    text = console.export_text()
    assert "Question 2 was open when the time ran out: unanswered, not scored." in " ".join(
        text.split()
    )
    assert "of 3 questions" not in text and "Score: 1 / 1" in text
    row = next(line for line in text.splitlines() if line.startswith("2 "))
    assert row.split()[1:] == ["d/", "unanswered"]  # narrow: the card under its deck
    assert text.splitlines()[text.splitlines().index(row) + 1].split() == ["q2"]
