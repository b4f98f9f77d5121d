"""`drill lint` and `drill decks`, run as a user would: exact lines and exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import drill.decks.loader
from drill.cli import app
from drill.home.paths import get_paths

GOOD = """\
id: backprop
title: Backpropagation
cards:
  - id: two-passes
    q: Name the two passes.
    a: Forward and backward.
  - id: chain-rule
    q: Which rule does the backward pass apply?
    a: The chain rule.
"""
OTHER = "id: optim\ntitle: Optimizers\ncards:\n  - {id: adam, q: What is Adam?, a: An optimizer.}\n"
BAD = """\
id: broken
title: Broken
cards:
  - id: one
    q: [not, text]
    a: fine
  - id: two
    q: fine
    answer: misspelt
"""


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def put(folder: Path, name: str, text: str | bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def no_builtin(tmp_path, monkeypatch) -> None:
    empty = tmp_path / "builtin"
    empty.mkdir()
    monkeypatch.setattr(drill.decks.loader, "builtin_decks_dir", lambda: empty)


# drill lint


def test_lint_clean_files_exit_0(tmp_path):
    good = put(tmp_path, "good.yaml", GOOD)
    other = put(tmp_path, "other.yml", OTHER)
    result = run("lint", str(good), str(other))
    assert (result.exit_code, result.output) == (0, "2 decks, 3 cards: OK\n")


def test_lint_singular_summary(tmp_path):
    result = run("lint", str(put(tmp_path, "other.yaml", OTHER)))
    assert (result.exit_code, result.output) == (0, "1 deck, 1 card: OK\n")


def test_lint_reports_every_error_in_every_file_and_exits_1(tmp_path):
    folder = tmp_path / "decks"
    bad = put(folder, "a-bad.yaml", BAD)
    put(folder, "b-good.yaml", GOOD)
    listed = put(folder, "c-list.yaml", "- a\n- b\n")
    tabbed = put(folder, "d-tab.yaml", "id: t\ntitle: T\ncards:\n\t- id: x\n")
    latin = put(folder, "e-latin.yaml", b"id: l\ntitle: caf\xe9\n")
    result = run("lint", str(folder))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{bad}:5:8: card 'one': 'q' must be text, not a list",
        f"{bad}:7:5: card 'two': missing 'a'",
        f"{bad}:9:5: card 'two': unknown key 'answer' (did you mean 'a'?)",
        f"{listed}:1:1: the top level must be a mapping with id, title and cards, not a list",
        f"{tabbed}:4:1: tab used for indentation; YAML indents with spaces only",
        f"{latin}:2:11: invalid UTF-8 byte 0xe9; save the file as UTF-8",
        "Found 6 errors in 4 files.",
    ]
    assert "Traceback" not in result.output


def test_lint_names_both_files_claiming_one_deck_id(tmp_path):
    first = put(tmp_path / "a", "x.yaml", GOOD)
    second = put(tmp_path / "b", "y.yaml", GOOD)
    result = run("lint", str(first), str(second))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{second}:1:5: deck id 'backprop' is already used by {first}",
        "Found 1 error in 1 file.",
    ]


def test_lint_a_missing_path_is_an_error(tmp_path):
    result = run("lint", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{tmp_path / 'nope.yaml'}: no such file or folder",
        "Found 1 error in 1 file.",
    ]


@pytest.mark.usefixtures("no_builtin")
def test_lint_without_paths_checks_every_known_deck(tmp_path, monkeypatch):
    put(get_paths().user_decks, "user.yaml", GOOD)
    env = tmp_path / "env"
    put(env, "other.yaml", OTHER)
    monkeypatch.setenv("DRILL_DECKS", str(env))
    assert run("lint").output == "2 decks, 3 cards: OK\n"
    extra = put(tmp_path / "extra", "bad.yaml", BAD)
    result = run("lint", "--decks", str(extra))
    assert result.exit_code == 1
    assert result.stdout.splitlines()[-1] == "Found 3 errors in 1 file."


def test_lint_refuses_python_tags_without_running_them(tmp_path):
    marker = tmp_path / "ran"
    deck = put(tmp_path, "evil.yaml", f'!!python/object/apply:os.system ["touch {marker}"]\n')
    result = run("lint", str(deck))
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == (
        f"{deck}:1:1: YAML tag '!!python/object/apply:os.system' is not allowed in decks"
        " (plain values only)"
    )
    assert not marker.exists()


def test_the_builtin_decks_lint_clean():
    result = run("lint")
    assert result.exit_code == 0, result.output
    assert result.output.endswith("cards: OK\n")


# drill decks


@pytest.mark.usefixtures("no_builtin")
def test_decks_lists_id_title_count_stage_and_source(tmp_path):
    good = put(tmp_path / "a", "good.yaml", GOOD)
    other = put(tmp_path / "b", "other.yaml", OTHER)
    result = run("decks", "--decks", str(good), "--decks", str(tmp_path / "b"))
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "ID        TITLE            CARDS  STAGE           SOURCE",
        f"backprop  Backpropagation      2  1 (your decks)  {good}",
        f"optim     Optimizers           1  1 (your decks)  {other}",
    ]
    assert result.stderr == ""


@pytest.mark.usefixtures("no_builtin")
def test_decks_warns_once_per_bad_file_and_lists_the_rest(tmp_path):
    folder = tmp_path / "decks"
    bad = put(folder, "bad.yaml", BAD)
    good = put(folder, "good.yaml", GOOD)
    result = run("decks", "--decks", str(folder))
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        f"Warning: {bad}:5:8: card 'one': 'q' must be text, not a list"
        " (skipped; 2 more errors, see drill lint)"
    ]
    assert result.stdout.splitlines()[1:] == [
        f"backprop  Backpropagation      2  1 (your decks)  {good}"
    ]


@pytest.mark.usefixtures("no_builtin")
def test_decks_with_no_decks_says_where_to_put_them():
    result = run("decks")
    assert result.exit_code == 0
    assert result.output == (
        f"No decks found. Put YAML decks in {get_paths().user_decks} or pass --decks PATH.\n"
    )


@pytest.mark.parametrize("command", ["lint", "decks"])
def test_commands_have_help(command):
    result = run(command, "--help")
    assert result.exit_code == 0
    summary = result.output.split("\n\n")[1].strip()
    assert len(summary) > 20
    assert "--decks" in result.output


def test_the_deck_size_limit_comes_from_the_config(tmp_path):
    deck = put(tmp_path, "good.yaml", GOOD + "# padding\n" * 200)
    assert run("lint", str(deck)).exit_code == 0
    get_paths().config_file.write_text("max_deck_bytes = 1024\n", encoding="utf-8")
    result = run("lint", str(deck))
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == (
        f"{deck}: file is {deck.stat().st_size} bytes, above the 1024 bytes limit for deck files"
    )


def test_lint_checks_compute_card_params(tmp_path):
    put(
        tmp_path,
        "compute.yaml",
        "id: sizes\ntitle: Sizes\ncards:\n"
        "  - id: mlp\n    type: compute\n    generator: mlp-backward\n"
        "    params: {activaton: relu}\n",
    )
    result = run("lint", str(tmp_path))
    assert result.exit_code == 1
    assert "compute.yaml:7:14: card 'mlp': generator 'mlp-backward' has no param 'activaton'" in (
        result.output
    )
    assert "did you mean 'activation'?" in result.output
