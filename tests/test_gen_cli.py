"""`drill gen`, driven as a user would: worksheets, JSON, files, errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from drill.cli import app
from drill.exercises import registry
from drill.exercises.base import Exercise
from drill.exercises.worksheet import exercise_seed, plan

runner = CliRunner()

# Cheap generators keep these tests fast; the full set is exercised once below.
CHEAP = ["conv-output-size", "param-count", "receptive-field", "weight-init"]


def gen(*args: str):
    return runner.invoke(app, ["gen", *args])


def test_list_prints_every_generator_with_its_line():
    result = gen("--list")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == registry.names()
    assert len(lines) == len(set(registry.names())) >= 34  # one line per generator, no repeat
    width = max(map(len, registry.names()))
    assert lines[0] == f"{'mlp-backward':<{width}}  {registry.GENERATORS['mlp-backward'].summary}"


@pytest.mark.parametrize("fmt", ["text", "md", "json"])
def test_same_arguments_give_byte_identical_output(fmt):
    args = [*CHEAP, "-n", "3", "--seed", "11", "--format", fmt]
    first, second = gen(*args), gen(*args)
    assert first.exit_code == 0, first.output
    assert first.stdout_bytes == second.stdout_bytes


def test_default_seed_is_deterministic():
    assert (
        gen("param-count", "-n", "2").stdout == gen("param-count", "--seed", "0", "-n", "2").stdout
    )


def test_another_seed_gives_other_exercises():
    assert gen(*CHEAP, "--seed", "1").stdout != gen(*CHEAP, "--seed", "2").stdout


def test_difficulty_changes_the_exercises():
    hand = json.loads(gen("param-count", "-n", "4", "-f", "json").stdout)
    calc = json.loads(gen("param-count", "-n", "4", "-f", "json", "-d", "calc").stdout)
    assert {r["difficulty"] for r in hand} == {"hand"}
    assert {r["difficulty"] for r in calc} == {"calc"}
    assert [r["answer"] for r in hand] != [r["answer"] for r in calc]


def test_json_is_an_array_of_the_exercise_contract():
    result = gen("conv-output-size", "weight-init", "-n", "3", "--seed", "5", "--format", "json")
    records = json.loads(result.stdout)
    assert [r["generator"] for r in records] == ["conv-output-size"] * 3 + ["weight-init"] * 3
    keys = {"generator", "seed", "difficulty", "question", "spec", "inputs", "asked"}
    keys |= {"answer", "tolerance", "solution"}
    for record in records:
        assert set(record) == keys
        assert Exercise.from_dict(record).to_dict() == record
    assert [r["seed"] for r in records[:3]] == [
        exercise_seed(5, "conv-output-size", i) for i in range(3)
    ]


def test_each_json_record_can_be_rebuilt_from_its_seed():
    records = json.loads(gen("receptive-field", "-n", "3", "-f", "json", "-d", "calc").stdout)
    for record in records:
        again = registry.make(record["generator"], record["seed"], difficulty=record["difficulty"])
        assert again.to_dict() == record


def test_adding_a_generator_does_not_change_the_others_exercises():
    alone = json.loads(gen("param-count", "-n", "2", "-f", "json").stdout)
    mixed = json.loads(gen("weight-init", "param-count", "-n", "2", "-f", "json").stdout)
    assert mixed[2:] == alone


def test_repeated_names_are_used_once():
    records = json.loads(gen("param-count", "param-count", "-f", "json").stdout)
    assert len(records) == 1


def test_text_worksheet_has_numbered_questions_then_the_answer_key():
    result = gen("param-count", "conv-output-size", "--seed", "3")
    assert result.exit_code == 0
    records = json.loads(gen("param-count", "conv-output-size", "--seed", "3", "-f", "json").stdout)
    text = result.stdout
    assert text.startswith("Worksheet (seed 3, difficulty hand, 2 exercises)\n\n1. [param-count]\n")
    questions, key = text.split("\nAnswers\n\n")
    assert "2. [conv-output-size]" in questions
    assert key.startswith(f"1. {records[0]['answer']}\n")
    assert f"2. {records[1]['answer']}\n" in key
    for record in records:
        assert "   " + record["solution"][-1] in key
    assert text.endswith("\n") and not text.endswith("\n\n")


def test_no_answers_leaves_out_the_key():
    text = gen("param-count", "--no-answers").stdout
    assert "Answers" not in text
    records = json.loads(gen("param-count", "--no-answers", "-f", "json").stdout)
    assert "answer" not in records[0] and "solution" not in records[0]


def test_markdown_worksheet():
    text = gen("receptive-field", "param-count", "-f", "md", "--seed", "4").stdout
    assert text.startswith("# Worksheet\n\nSeed 4, difficulty hand, 2 exercises.\n\n")
    assert "## 1. receptive-field" in text and "## 2. param-count" in text
    assert "## Answers" in text
    assert text.count("```text") == 2 and text.count("```") == 4
    assert "r\\_l" in text  # Markdown specials in questions are escaped
    assert "\\\n1\\. conv" in text  # and a numbered layer does not start a list


def test_unknown_name_gets_a_did_you_mean():
    result = gen("param-count", "conv-outptu-size")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: unknown generator 'conv-outptu-size' (did you mean 'conv-output-size'?)\n"
    )
    assert result.stdout == ""


def test_count_must_be_positive():
    result = gen("param-count", "-n", "0")
    assert result.exit_code != 0
    with pytest.raises(ValueError):
        plan(["param-count"], 0, 0)


def test_output_file_is_written_and_not_overwritten_without_force(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "sheet.json"
    first = gen("param-count", "-f", "json", "-o", str(target))
    assert first.exit_code == 0, first.output
    assert first.stdout == ""
    assert first.stderr == f"Wrote 1 exercise to {target}\n"
    expected = gen("param-count", "-f", "json").stdout
    assert target.read_text(encoding="utf-8") == expected

    refused = gen("param-count", "--seed", "9", "-o", str(target))
    assert refused.exit_code == 1
    assert refused.stderr == f"Error: {target} already exists (use --force to overwrite it)\n"
    assert target.read_text(encoding="utf-8") == expected

    forced = gen("param-count", "--seed", "9", "-o", str(target), "--force")
    assert forced.exit_code == 0
    assert target.read_text(encoding="utf-8") == gen("param-count", "--seed", "9").stdout
    assert [p.name for p in folder.iterdir()] == ["sheet.json"]  # no temporary files left


def test_progress_bar_goes_to_stderr_and_leaves_stdout_alone(monkeypatch):
    quiet = gen("param-count", "conv-output-size", "-n", "30", "-f", "json")
    assert "Generating" not in quiet.stderr
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich's switch: take stderr for a terminal
    loud = gen("param-count", "conv-output-size", "-n", "30", "-f", "json")
    assert loud.exit_code == 0
    assert loud.stdout == quiet.stdout
    assert "Generating" in loud.stderr


def test_a_worksheet_written_to_a_pipe_does_not_load_rich(tmp_path):
    """Standard error that is no terminal gets no progress bar: rich is not even imported."""
    script = (
        "import atexit, sys\n"
        "from drill.cli import main\n"
        "def report():\n"  # at exit: `drill gen` ends the process from main()
        "    print('rich' in sys.modules, 'rich.console' in sys.modules, file=sys.stderr)\n"
        "atexit.register(report)\n"
        "sys.argv = ['drill', 'gen', 'param-count', '-n', '60', '-f', 'json']\n"
        "main()\n"
    )
    env = {"DRILL_HOME": str(tmp_path), "PATH": ""}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)) == 60
    assert result.stderr.split() == ["False", "False"]


def test_without_names_every_generator_comes_in_turn():
    for info in registry.GENERATORS.values():  # every generator's module must be written first
        pytest.importorskip(info.module)
    records = json.loads(gen("-f", "json", "--seed", "2").stdout)
    assert [r["generator"] for r in records] == registry.names()


def test_every_option_has_help():
    command = typer.main.get_command(app).commands["gen"]
    assert command.help
    for param in command.params:
        assert getattr(param, "help", None), param.name
