"""The small things a newcomer notices: Python reprs in `show` and `config`, 150-column
paths in `drill decks`, and a worked solution whose last value reads as the wrong thing."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from drill.cli import app
from drill.exercises import make
from drill.home.paths import get_paths
from drill.ui.columns import column_lines

runner = CliRunner()


def test_show_writes_params_as_a_deck_file_does():
    result = runner.invoke(app, ["show", "compute/mlp-relu-mse"])
    assert result.exit_code == 0, result.output
    assert "params: activation: relu, loss: mse" in result.output
    assert "{'" not in result.output


def test_config_writes_values_as_the_config_file_does():
    result = runner.invoke(app, ["config"])
    assert result.exit_code == 0
    assert re.search(r"learning_steps\s+\[\"1m\", \"10m\"\]\s+default", result.output)
    assert re.search(r"fuzz\s+true\s+default", result.output)
    assert "['" not in result.output


@pytest.mark.parametrize("activation", ["gelu", "relu", "leaky_relu"])
def test_the_last_solution_line_names_the_derivative_it_gives(activation):
    exercise = make("activation-derivative", 3, {"activation": activation})
    line = next(line for line in exercise.solution if line.strip().startswith("∂f/∂x"))
    # "… else 0 = 0" or "… / √(2π) = 1.083" read as the value of the case or of φ(x)
    found = re.search(rf"; so {activation}′\(x\) = (-?[0-9.e-]+)$", line)
    assert found, line
    assert float(found[1]) == pytest.approx(exercise.answer, rel=1e-3)


def test_decks_lists_built_in_decks_as_such_and_home_paths_with_a_tilde(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    folder = get_paths().user_decks
    folder.mkdir(parents=True)
    (folder / "mine.yaml").write_text("id: mine\ntitle: Mine\ncards:\n  - {id: a, q: Q, a: A}\n")
    home_decks = tmp_path / "notes"
    home_decks.mkdir()
    (home_decks / "own.yaml").write_text("id: own\ntitle: Own\ncards:\n  - {id: a, q: Q, a: A}\n")
    result = runner.invoke(app, ["decks", "--decks", str(home_decks)])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert rows["intro"].endswith("  built-in")
    assert rows["own"].endswith("  ~/notes/own.yaml")
    assert rows["mine"].endswith("  ~/drill-home/decks/mine.yaml")  # DRILL_HOME is in ~ here


def test_columns_wrap_long_cells_to_the_width_and_keep_words_whole():
    rows = [
        ("ID", "TITLE", "CARDS", "SOURCE"),
        ("finetuning-peft", "Fine-tuning and parameter-efficient methods", "48", "built-in"),
        ("mine", "Mine", "2", "~/some/long/folder/of/decks/mine.yaml"),
    ]
    lines = column_lines(rows, width=60, wrap=(1, 3), right=(2,))
    assert max(map(len, lines)) <= 60
    assert lines[0].split() == ["ID", "TITLE", "CARDS", "SOURCE"]
    assert lines[1].startswith("finetuning-peft  Fine-tuning and")
    assert "parameter-efficient" in "".join(lines)  # a word is never cut
    assert [line.split()[-1] for line in lines[4:]] == [
        "~/some/long/",
        "folder/of/",
        "decks/",
        "mine.yaml",
    ]
    # without a width (output to a file or a pipe) every row is one line
    assert len(column_lines(rows)) == 3
