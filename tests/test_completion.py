"""Shell completion: the scripts for bash, zsh and fish, and what a shell gets back when it
asks (commands, deck ids, card keys, tags, generator names). Completion costs nothing at an
ordinary start-up: tests/test_cli_loading.py checks that typer's completion code stays out."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drill.cli import app

DECK = """\
id: mine
title: Backpropagation
tags: [deep-learning]
cards:
  - id: two-passes
    q: Name the two passes.
    a: Forward and backward.
    tags: [interview]
  - id: chain-rule
    q: Which rule?
    a: The chain rule.
  - id: grad
    type: compute
    generator: mlp-backward
"""


@pytest.fixture(autouse=True)
def decks(tmp_path, monkeypatch):
    folder = tmp_path / "decks"
    folder.mkdir()
    (folder / "backprop.yaml").write_text(DECK, encoding="utf-8")
    monkeypatch.setenv("DRILL_DECKS", str(folder))
    return folder


def bash_words(line: str) -> list[str]:
    """What drill answers bash for the last word of `line` (a trailing space: a new word)."""
    words = line.split()
    cword = len(words) if line.endswith(" ") else len(words) - 1
    env = {"_DRILL_COMPLETE": "complete_bash", "COMP_WORDS": line, "COMP_CWORD": str(cword)}
    result = CliRunner().invoke(app, [], env=env, prog_name="drill")
    assert result.exit_code == 0, result.output
    return result.output.split()


def test_commands_complete():
    assert bash_words("drill sus") == ["suspend"]
    assert bash_words("drill st") == ["stats", "study"]


def test_deck_ids_complete_for_every_deck_argument():
    assert bash_words("drill study mi") == ["mine"]
    assert bash_words("drill due mi") == ["mine"]
    assert bash_words("drill export --format json -o x.json mi") == ["mine"]
    assert "intro" in bash_words("drill stats intr")  # built-in decks too


def test_card_keys_complete_for_show_and_suspend():
    assert bash_words("drill show mine/") == [
        "mine/two-passes",
        "mine/chain-rule",
        "mine/grad",
    ]
    assert bash_words("drill show mine/ch") == ["mine/chain-rule"]
    # suspend takes whole decks as well as cards
    assert bash_words("drill suspend mine") == [
        "mine",
        "mine/two-passes",
        "mine/chain-rule",
        "mine/grad",
    ]


def test_tags_and_generator_names_complete():
    assert bash_words("drill study --tag intervi") == ["interview"]
    assert bash_words("drill study -t deep-") == ["deep-learning"]
    assert bash_words("drill gen softmax") == ["softmax-cross-entropy"]


def test_zsh_and_fish_get_the_same_answers():
    zsh = CliRunner().invoke(
        app,
        [],
        env={"_DRILL_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "drill show mine/tw"},
        prog_name="drill",
    )
    assert zsh.exit_code == 0
    assert '"mine/two-passes"' in zsh.output
    fish = CliRunner().invoke(
        app,
        [],
        env={
            "_DRILL_COMPLETE": "complete_fish",
            "_TYPER_COMPLETE_ARGS": "drill study mi",
            "_TYPER_COMPLETE_FISH_ACTION": "get-args",
        },
        prog_name="drill",
    )
    assert fish.exit_code == 0
    assert fish.output.split() == ["mine"]


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "complete -o default -F _drill_completion drill"),
        ("zsh", "compdef _drill_completion drill"),
        ("fish", "complete --command drill"),
    ],
)
def test_show_completion_prints_each_shells_script(shell, marker):
    result = CliRunner().invoke(app, ["--show-completion", shell], prog_name="drill")
    assert result.exit_code == 0
    assert marker in result.output
    assert "_DRILL_COMPLETE=complete_" in result.output


def test_an_unknown_shell_is_refused():
    result = CliRunner().invoke(app, ["--show-completion", "tcsh"], prog_name="drill")
    assert result.exit_code == 2
    assert "'tcsh' is not one of 'bash', 'zsh', 'fish'" in result.output


def test_install_completion_writes_the_script_where_bash_reads_it(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    result = CliRunner().invoke(app, ["--install-completion", "bash"], prog_name="drill")
    assert result.exit_code == 0, result.output
    script = tmp_path / ".bash_completions" / "drill.sh"
    assert f"Installed bash completion in {script}" in result.output
    assert "_DRILL_COMPLETE=complete_bash" in script.read_text()
    assert f"source '{script}'" in (tmp_path / ".bashrc").read_text()


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_a_real_bash_completes_a_card_key(tmp_path):
    """The script as bash sources it, calling the `drill` on PATH, as a user's shell does."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "drill"
    root = Path(__file__).resolve().parents[1]
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m drill "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    script = (
        "source <(drill --show-completion bash)\n"
        "COMP_WORDS=(drill show mine/tw); COMP_CWORD=2\n"
        "_drill_completion drill\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    result = subprocess.run(
        ["bash", "--norc", "-c", script],
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["mine/two-passes"]


def test_completing_loads_no_heavy_library(drill_home):
    """A shell asks at every Tab: deck ids, card keys and generator names come without
    numpy, fsrs or the exporters."""
    script = (
        "import atexit, json, sys\n"
        "from drill.cli import main\n"
        "atexit.register(lambda: print(json.dumps(sorted(sys.modules))))\n"
        "sys.argv = ['drill']\n"
        "main()\n"  # the root's help and completions end the process at once
    )
    for line, cword in (
        ("drill gen so", "2"),
        ("drill show mine/", "2"),
        ("drill study -t x", "3"),
    ):
        env = {
            "DRILL_HOME": str(drill_home),
            "DRILL_DECKS": os.environ["DRILL_DECKS"],
            "PATH": "",
            "_DRILL_COMPLETE": "complete_bash",
            "COMP_WORDS": line,
            "COMP_CWORD": cword,
        }
        result = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
        )
        modules = set(json.loads(result.stdout.splitlines()[-1]))
        heavy = {m for m in modules if m.startswith(("numpy", "fsrs", "genanki", "drill.engine"))}
        assert not heavy, (line, heavy)
