"""One definition of each count: after a scripted session (an again, goods, an undo), the
study screen, its summary, `drill due`, `drill stats` and `drill doctor` agree on what is
due, on how many reviews there were and on the time they took."""

from __future__ import annotations

import itertools
import json
import re
import time

import pytest
from typer.testing import CliRunner

from drill.cli import app

DECK = "id: five\ntitle: Five\ncards:\n" + "".join(
    f"  - {{id: c{i}, q: Question {i}?, a: Answer {i}.}}\n" for i in range(1, 6)
)
STEP_SECONDS = 1.25  # the fake clock's tick: each look at the time takes this long


@pytest.fixture(autouse=True)
def decks(tmp_path, monkeypatch):
    folder = tmp_path / "decks"
    folder.mkdir()
    (folder / "five.yaml").write_text(DECK, encoding="utf-8")
    monkeypatch.setenv("DRILL_DECKS", str(folder))


@pytest.fixture
def slow_clock(monkeypatch):
    """time.monotonic moving on by STEP_SECONDS per call: answers take seconds, and the
    session's wall-clock time is not the sum of its answers' times."""
    ticks = itertools.count()
    monkeypatch.setattr(time, "monotonic", lambda: 1000 + STEP_SECONDS * next(ticks))


def run(*args: str, input: str | None = None):
    result = CliRunner().invoke(app, list(args), input=input)
    assert result.exit_code in (0, 1), result.output
    return result


def due_total() -> dict[str, int]:
    lines = run("due", "five").stdout.splitlines()
    total = next(line for line in lines if line.startswith("total")).split()[1:]
    return dict(zip(("new", "learning", "review", "later"), map(int, total), strict=True))


def header(output: str) -> dict[str, int]:
    """The first study screen's counts: new N · learning N · review N · done N."""
    found = re.search(r"new (\d+)\s+·\s+learning (\d+)\s+·\s+review (\d+)", output)
    assert found, output
    return dict(zip(("new", "learning", "review"), map(int, found.groups()), strict=True))


def test_every_count_agrees_after_a_scripted_session(slow_clock):
    before = due_total()
    assert before == {"new": 5, "learning": 0, "review": 0, "later": 0}
    # c1 again, c2 good, c3 good then undone at c4 and graded easy, then quit at c4
    session = run("study", "five", input="\n1\n\n3\n\n3\nu\n\n4\nq\n").stdout
    assert header(session) == {key: before[key] for key in ("new", "learning", "review")}
    assert "Undid the answer to five/c3" in session

    # the summary: 3 reviews, and what is still due now is what `drill due` says
    summary = re.search(r"Reviewed (\d+) cards in (\d+)s.*?\n(.*)", session, flags=re.S)
    assert summary, session
    reviewed, seconds, after = int(summary[1]), int(summary[2]), summary[3]
    due = due_total()
    assert due == {"new": 2, "learning": 2, "review": 0, "later": 0}  # c1, c2 within learn-ahead
    assert after.strip() == f"{sum(due.values()) - due['later']} cards still due today."
    assert header(run("study", "five", input="q\n").stdout) == {
        key: due[key] for key in ("new", "learning", "review")
    }

    # reviews and time: the summary, `drill stats` and `drill doctor` count the same
    stats = json.loads(run("stats", "--json").stdout)
    assert stats["reviews_today"] == reviewed == 3
    assert round(stats["seconds_today"]) == seconds > 0
    assert f"{reviewed} reviews in {seconds}s" in run("stats").stdout
    doctor = run("doctor").stdout
    assert "schema m0" in doctor and f", {reviewed} reviews." in doctor


def test_the_session_time_is_the_time_spent_on_answers(slow_clock):
    session = run("study", "five", input="\n3\nq\n").stdout
    stats = json.loads(run("stats", "--json").stdout)
    seconds = round(stats["seconds_today"])
    assert seconds > 0
    assert f"Reviewed 1 card in {seconds}s" in session
