"""A code card in a real terminal: `drill study` under tmux, with a fake $EDITOR that writes
a correct solution the first time and a wrong one the second. Both are graded on screen
and both land in the review log with their seed and the number of tests passed."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from drill.review.store import Store

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

ROOT = Path(__file__).resolve().parents[1]
WAIT_SECONDS = 60

EDITOR = """\
#!{python}
import pathlib, sys

count = pathlib.Path({count!r})
n = int(count.read_text()) if count.exists() else 0
count.write_text(str(n + 1))
good = '''import numpy as np

def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
'''
naive = '''import numpy as np

def softmax(z):
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)
'''
pathlib.Path(sys.argv[-1]).write_text(good if n == 0 else naive)
"""

DECK = textwrap.dedent(
    """\
    id: one
    title: One card
    cards:
      - id: softmax
        type: code
        exercise: softmax
    """
)


class Tmux:
    """One tmux server of its own (its own socket), running one command in a window."""

    def __init__(self, command: str) -> None:
        self.socket = f"drill-test-{os.getpid()}"
        self.target = "study"
        self._tmux("new-session", "-d", "-s", self.target, "-x", "110", "-y", "45", command)

    def _tmux(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True
        )
        return result.stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.target)

    def wait_for(self, text: str) -> str:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared; the screen:\n{self.screen()}")

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", self.target, *keys)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


@pytest.fixture
def terminal(tmp_path, drill_home):
    decks = tmp_path / "decks"
    decks.mkdir()
    (decks / "one.yaml").write_text(DECK, encoding="utf-8")
    editor = tmp_path / "editor.py"
    count = tmp_path / "editor-runs"
    editor.write_text(EDITOR.format(python=sys.executable, count=str(count)), encoding="utf-8")
    editor.chmod(0o755)
    env = {
        "DRILL_HOME": str(drill_home),
        "EDITOR": str(editor),
        "VISUAL": "",
        "TERM": "xterm-256color",
        "PYTHONPATH": str(ROOT),
    }
    exports = " ".join(f"{name}={shlex.quote(value)}" for name, value in env.items())
    study = f"{shlex.quote(sys.executable)} -m drill study --decks {shlex.quote(str(decks))} one"
    command = f"cd {shlex.quote(str(ROOT))} && env {exports} {study}; echo DRILL-EXITED; sleep 60"
    tmux = Tmux(command)
    try:
        yield tmux, count
    finally:
        tmux.close()


def test_a_code_card_graded_twice_through_the_editor_both_logged(terminal, drill_home):
    tmux, editor_runs = terminal
    tmux.wait_for("Enter: edit and run the tests")
    tmux.keys("Enter")  # the editor writes a correct solution
    screen = tmux.wait_for("Enter: good")
    assert "7/7 passed." in screen and "✓ Every test passed." in screen
    tmux.keys("Enter")  # take good; the card comes back within the learn-ahead window
    tmux.wait_for("done 1")
    tmux.wait_for("Enter: edit and run the tests")
    tmux.keys("Enter")  # the editor writes a softmax without the max-subtraction
    screen = tmux.wait_for("Enter: again")
    assert "likely slip: no max-subtraction" in screen
    assert "✗ Not every test passed." in screen
    tmux.keys("Enter")
    tmux.wait_for("done 2")
    tmux.keys("q")
    screen = tmux.wait_for("DRILL-EXITED")
    assert "Reviewed 2 cards" in screen

    assert editor_runs.read_text() == "2"
    with Store.open() as store:
        logged = store.reviews()
    assert [(r.key, r.rating.name, r.correct) for r in logged] == [
        ("one/softmax", "GOOD", True),
        ("one/softmax", "AGAIN", False),
    ]
    assert logged[0].answer == "7/7 passed"
    assert logged[1].answer.endswith("/7 passed") and logged[1].answer != "7/7 passed"
    assert all(isinstance(r.seed, int) for r in logged)
    assert logged[0].seed != logged[1].seed  # fresh tests on every review
