"""Hostile input through the commands: bad deck files are one clear line, typed answers never crash.

The loader's own refusals are tested in test_deck_hostile.py and the answer parser's in
test_grading.py; here the same inputs go through `drill study` and `drill lint`, next to a
good deck that must keep working, and arbitrary typed answers go through the study screen.
"""

from __future__ import annotations

import io
import itertools
import random
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console
from typer.testing import CliRunner

from drill.cli import app
from drill.decks.loader import load_sources
from drill.errors import DeckError
from drill.home.config import Config
from drill.model import Card, CardType
from drill.review.session import Session
from drill.review.store import Store
from drill.ui.keys import Keys
from drill.ui.study import StudyScreen

GOOD_DECK = "id: good\ntitle: Good\ncards:\n  - id: one\n    q: What is one?\n    a: One.\n"
MEMORY_LIMIT = 20 * 1024 * 1024  # far below a 50 MB file, let alone an expanded alias bomb


def _python_tag(marker: Path) -> bytes:
    return f'id: x\ntitle: !!python/object/apply:os.system ["touch {marker}"]\ncards: []\n'.encode()


def _alias_bomb(_: Path) -> bytes:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in "bcdefghi":
        previous = chr(ord(level) - 1)
        lines.append(f"{level}: &{level} [{', '.join(['*' + previous] * 9)}]")
    return ("\n".join(lines) + "\n").encode()


def _fifty_megabytes(_: Path) -> bytes:
    card = b"  - id: c\n    q: " + b"x" * 1000 + b"\n    a: y\n"
    return b"id: huge\ntitle: Huge\ncards:\n" + card * (50 * 1024 * 1024 // len(card) + 1)


HOSTILE = {
    "python-tag": (_python_tag, "not allowed"),
    "alias-bomb": (_alias_bomb, "anchors and aliases"),
    "50-mb": (_fifty_megabytes, "limit for deck files"),
    "not-utf8": (lambda _: b"id: d\ntitle: Caf\xe9\ncards: []\n", "UTF-8"),
    "top-level-list": (lambda _: b"- id: a\n  q: Q\n  a: A\n", "top level must be a mapping"),
    "tabs": (lambda _: b"id: d\ntitle: D\ncards:\n\t- id: a\n", "tab"),
    "binary": (lambda _: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary"),
    "utf-16": (lambda _: "id: d\ntitle: D\n".encode("utf-16"), "UTF-16"),
}


@pytest.fixture
def decks(tmp_path) -> Path:
    folder = tmp_path / "decks"
    folder.mkdir()
    (folder / "good.yaml").write_text(GOOD_DECK, encoding="utf-8")
    return folder


def hostile_file(folder: Path, name: str) -> tuple[Path, str, Path]:
    make, expected = HOSTILE[name]
    marker = folder.parent / "code-ran"
    path = folder / f"{name}.yaml"
    path.write_bytes(make(marker))
    return path, expected, marker


@pytest.mark.parametrize("name", HOSTILE)
def test_study_warns_in_one_line_and_goes_on_with_the_good_deck(decks, name):
    path, expected, marker = hostile_file(decks, name)
    tracemalloc.start()
    try:
        result = CliRunner().invoke(app, ["study", "good", "--decks", str(decks)], input="\n3\n")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert result.exit_code == 0, result.output
    (warning,) = result.stderr.splitlines()
    assert warning.startswith(f"Warning: {path}")
    assert expected in warning
    assert "Reviewed 1 card" in result.stdout  # the good deck was studied
    assert not marker.exists()
    assert peak < MEMORY_LIMIT


@pytest.mark.parametrize("name", HOSTILE)
def test_lint_names_the_file_in_one_line(decks, name):
    path, expected, marker = hostile_file(decks, name)
    result = CliRunner().invoke(app, ["lint", str(path)])
    assert result.exit_code == 1
    error, summary = result.output.splitlines()
    assert error.startswith(str(path)) and expected in error
    assert summary == "Found 1 error in 1 file."
    assert "Traceback" not in result.output
    assert not marker.exists()


def test_the_deck_size_limit_comes_from_the_config(drill_home, decks):
    (drill_home / "config.toml").write_text("max_deck_bytes = 65536\n")
    big = decks / "big.yaml"
    cards = "".join(
        f"  - id: c{i}\n    q: Question {i}?\n    a: Answer {i}.\n" for i in range(2000)
    )
    big.write_text(f"id: big\ntitle: Big\ncards:\n{cards}")
    assert 65536 < big.stat().st_size < 5 * 1024 * 1024  # within the default limit
    result = CliRunner().invoke(app, ["study", "good", "--decks", str(decks)], input="q\n")
    assert result.exit_code == 0
    (warning,) = result.stderr.splitlines()
    assert warning.startswith(f"Warning: {big}") and "65536 bytes limit" in warning


# Fuzzing the loader through a folder: a broken file never blocks the others

_VALID = (
    "id: fuzz\ntitle: Fuzz\ntags: [t]\ncards:\n"
    '  - id: a\n    q: |\n      What is *a*?\n    a: "A: yes"\n    tags: [x, y]\n'
    "  - id: b\n    type: compute\n    generator: adam-step\n    params: {lr: 0.1}\n"
)
_PIECES = st.sampled_from(
    [
        *" \t\n:-[]{}'\"#|>",
        *("  ", "- ", "&a ", "*a", "!!", "id: a\n", "cards:\n", "---\n"),
        *("\x00", "\ufeff", "\u2028", "é", "😀"),
    ]
)
_EDITS = st.lists(
    st.tuples(st.floats(0, 1), st.integers(0, 6), st.one_of(_PIECES, st.text(max_size=4))),
    min_size=1,
    max_size=6,
)


def mutate(text: str, edits: list[tuple[float, int, str]]) -> str:
    """Delete a few characters somewhere and insert a piece there, once per edit."""
    for where, deleted, inserted in edits:
        at = int(where * len(text))
        text = text[:at] + inserted + text[at + deleted :]
    return text


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edits=_EDITS)
def test_a_mutated_deck_gives_deck_errors_and_never_blocks_the_others(tmp_path, edits):
    folder = tmp_path / "fuzz"
    folder.mkdir(exist_ok=True)
    (folder / "good.yaml").write_text(GOOD_DECK, encoding="utf-8")
    mutated = folder / "mutated.yaml"
    mutated.write_bytes(mutate(_VALID, edits).encode("utf-8", errors="surrogatepass"))

    collection = load_sources([folder])
    assert "good" in [deck.id for deck in collection.decks]
    assert all(isinstance(error, DeckError) for error in collection.errors)
    assert all(error.path == str(mutated) for error in collection.errors)


# Typed answers: any length, any content, never a crash

_GENERATORS = ["conv-output-size", "dropout", "adam-step", "mlp-backward"]
_RUNS = itertools.count()  # a fresh database per example: tmp_path is shared by all of them


def study_compute(store: Store, generator: str, lines: list[str]) -> Session:
    """Run the study screen on one compute card with the given input lines."""
    card = Card("fuzz", "c", type=CardType.COMPUTE, generator=generator)
    session = Session(store, [card], Config(), rng=random.Random(0))
    keys = Keys(io.StringIO("".join(line + "\n" for line in lines)))
    StudyScreen(session, Console(file=io.StringIO(), width=100), keys).run()
    return session


_TYPED = st.one_of(
    st.text(st.characters(exclude_characters="\n\r"), max_size=200),
    st.lists(st.sampled_from([*"0123456789.,;-+eE/ []()", "nan", "inf", "1e999"])).map("".join),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(typed=_TYPED, generator=st.sampled_from(_GENERATORS))
def test_any_typed_answer_is_graded_or_asked_again(tmp_path, typed, generator):
    with Store(tmp_path / f"fuzz-{next(_RUNS)}.db") as store:
        # typed; empty line (show the solution if it was refused); grade again; then input ends
        session = study_compute(store, generator, [typed, "", "1"])
        reviews = store.reviews()
    assert session.summary.reviewed == len(reviews) <= 2
    if typed.strip().lower() != "q":
        assert reviews, "the card was graded"
        assert reviews[0].answer in (typed, None)


@pytest.mark.parametrize(
    "typed",
    [
        "1" * 1_000_000,  # a megabyte of digits
        "[" * 50_000 + "1" + "]" * 50_000,
        "\x00\x01\x1b[2J\x7f",
        "\ud800 lone surrogate",
        "١٢٣",  # digits of another script
        "1e308 * 10",
        "-0",
    ],
    ids=["megabyte", "deep-brackets", "control", "surrogate", "arabic", "overflow", "minus-zero"],
)
def test_extreme_typed_answers(tmp_path, typed):
    with Store(tmp_path / "drill.db") as store:
        study_compute(store, "conv-output-size", [typed, "", "1"])
        assert store.integrity_check() == "ok"
        assert len(store.reviews()) >= 1


def test_bytes_that_are_not_text_on_stdin_do_not_crash_a_session(tmp_path):
    """Under a strict UTF-8 locale, undecodable input used to end in a traceback."""
    folder = tmp_path / "decks"
    folder.mkdir()
    (folder / "c.yaml").write_text(
        "id: c\ntitle: C\ncards:\n  - id: conv\n    type: compute\n"
        "    generator: conv-output-size\n"
    )
    from study_process import drill_env

    env = {**drill_env(tmp_path / "home"), "PYTHONIOENCODING": "utf-8:strict"}
    result = subprocess.run(
        [sys.executable, "-m", "drill", "study", "c", "--decks", str(folder)],
        input=b"\xff\xfe\x80 12\n\n3\nq\n",
        capture_output=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert b"Traceback" not in result.stderr
    assert b"Reviewed 1 card" in result.stdout
