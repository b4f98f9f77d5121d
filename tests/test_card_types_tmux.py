"""Cloze, multiple-choice and typed-answer cards in a real terminal: `drill study` under
tmux, keys typed one at a time as a person types them, the screen read back, and each
answer checked in the review log."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from drill.model import Rating
from drill.review.store import Store

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

ROOT = Path(__file__).resolve().parents[1]
WAIT_SECONDS = 60

CARDS = {
    "backprop": """\
      - id: backprop
        type: cloze
        text: "Backprop applies the {{c1::chain rule::a rule}} from the {{c2::loss}} backwards."
    """,
    "optimizer": """\
      - id: optimizer
        type: choice
        q: Which of these is an optimizer?
        choices: [ReLU, Adam, Dropout, LayerNorm]
        answer: Adam
        a: Adam adapts a step size per parameter.
    """,
    "logistic-loss": """\
      - id: logistic-loss
        q: Which loss does logistic regression minimise?
        a: The binary cross-entropy (log loss) of the predicted probabilities.
        type_answer: binary cross-entropy
        accept: [log loss]
    """,
}


class Tmux:
    """A tmux server of its own (its own socket) running one command in a window."""

    def __init__(self, name: str, command: str) -> None:
        self.socket = f"drill-card-types-{os.getpid()}-{name}"
        self.target = "study"
        self._tmux("new-session", "-d", "-s", self.target, "-x", "100", "-y", "40", command)

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
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared; the screen:\n{self.screen()}")

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", self.target, *keys)

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", self.target, "-l", text)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


@pytest.fixture
def study(tmp_path, drill_home, request):
    """`drill study` on a deck of one card (the card's id is the test's parameter)."""
    decks = tmp_path / "decks"
    decks.mkdir()
    card_id = request.param
    deck = "id: kinds\ntitle: Kinds of card\ncards:\n" + textwrap.dedent(CARDS[card_id])
    (decks / "kinds.yaml").write_text(deck, encoding="utf-8")
    env = {"DRILL_HOME": str(drill_home), "TERM": "xterm-256color", "PYTHONPATH": str(ROOT)}
    exports = " ".join(f"{name}={shlex.quote(value)}" for name, value in env.items())
    study = f"{shlex.quote(sys.executable)} -m drill study --decks {shlex.quote(str(decks))} kinds"
    command = f"cd {shlex.quote(str(ROOT))} && env {exports} {study}; echo DRILL-EXITED; sleep 60"
    tmux = Tmux(card_id, command)
    try:
        yield tmux
    finally:
        tmux.close()


def logged(drill_home: Path):
    with Store(drill_home / "drill.db") as store:
        return [(r.key, r.rating, r.answer, r.correct) for r in store.reviews()]


@pytest.mark.parametrize("study", ["backprop"], indirect=True)
def test_a_cloze_card_blanks_its_deletion_then_reveals_it(study, drill_home):
    screen = study.wait_for("Enter: show answer")
    assert "Cloze c1" in screen
    assert "Backprop applies the [a rule] from the loss backwards." in screen
    assert "chain rule" not in screen
    study.keys("Enter")
    screen = study.wait_for("3 good")
    assert "Backprop applies the chain rule from the loss backwards." in screen
    study.keys("3")
    study.wait_for("done 1")  # the learning card comes back within the learn-ahead time
    study.keys("q")
    study.wait_for("DRILL-EXITED")
    assert logged(drill_home) == [("kinds/backprop#c1", Rating.GOOD, None, None)]


@pytest.mark.parametrize("study", ["optimizer"], indirect=True)
def test_a_choice_is_one_key_and_a_right_one_proposes_good(study, drill_home):
    screen = study.wait_for("1-4: choose")
    # The order is new at each review: find Adam's number on the screen.
    numbers = dict(
        (name, number)
        for number, name in re.findall(r"(\d)\. (\w+)", screen.split("Choose one")[1])
    )
    assert sorted(numbers) == ["Adam", "Dropout", "LayerNorm", "ReLU"]
    study.keys(numbers["Adam"])  # a single key, no Enter
    screen = study.wait_for("Enter: good")
    assert "✓ Correct." in screen
    assert f"✓ {numbers['Adam']}. Adam  ← yours" in screen
    assert "Adam adapts a step size per parameter." in screen
    study.keys("Enter")  # accepts the proposed grade
    study.wait_for("done 1")
    study.keys("q")
    study.wait_for("DRILL-EXITED")
    assert logged(drill_home) == [("kinds/optimizer", Rating.GOOD, "Adam", True)]


@pytest.mark.parametrize("study", ["logistic-loss"], indirect=True)
def test_a_typed_answer_is_compared_with_a_diff_and_graded(study, drill_home):
    study.wait_for("answer>")
    study.type("Binary cross entropy")  # case and the hyphen do not count
    study.keys("Enter")
    screen = study.wait_for("Enter: good")
    assert "✓ Correct." in screen
    assert "   typed: Binary cross entropy" in screen
    assert "expected: binary cross-entropy" in screen
    study.keys("1")  # the user may still grade it otherwise
    study.wait_for("done 1")
    study.type("q")  # at an answer prompt, q and Enter
    study.keys("Enter")
    study.wait_for("DRILL-EXITED")
    assert logged(drill_home) == [
        ("kinds/logistic-loss", Rating.AGAIN, "Binary cross entropy", True)
    ]
