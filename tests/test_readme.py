"""Every command README.md shows runs as written, in order, in a fresh home.

The commands are read from the README's ```sh blocks, so a new section is checked as soon
as it lands. Each `drill …` line runs in-process (CliRunner) from a scratch folder, so the
files one command writes (`-o sheet.md`, `> softmax.py`) are there for the next; a line
fed by `printf '…' |` gets that text as its input. Lines that are not drill commands (the
install, the test suite, CI) are skipped below, each with its reason. The deck examples
(```yaml with an `id` and `cards`) must pass `drill lint`, and the config example
(```toml) must be a config drill reads.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drill.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"

# Lines shown in the README that this test does not run, by how they start, and why.
SKIPPED = {
    "python3 -m venv": "installs drill into a new virtual environment: minutes of work, "
    "done by .ci/run",
    "pipx install": "installs from PyPI or the checkout: network and minutes; .ci/run builds "
    "the wheel and installs it",
    ".venv/bin/python -m pytest": "the test suite itself",
    ".venv/bin/ruff": "the linters, which .ci/run runs",
    ".ci/run": "CI: minutes of work",
    "drill add my-deck": "asks for the card at the terminal, or opens $EDITOR, and needs a "
    "deck of your own; tests/test_cards_cli.py runs it with both",
    "drill edit my-deck/": "opens $EDITOR; tests/test_cards_cli.py runs it with a stand-in",
}
# Commands whose exit code is not 0 by design, and why.
EXIT_CODES = {
    "drill code check softmax softmax.py": (1, "the starter stub fails its tests"),
}
# Words in a command that stand for a value the reader picks; the test picks one.
PLACEHOLDERS = {
    "FILE": lambda home: sorted((home / "backups").glob("drill-*.db"))[-1].name,
}


def blocks(language: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.S | re.M)


def commands() -> list[str]:
    """Each command line of the ```sh blocks, comments and all, in README order."""
    return [line for block in blocks("sh") for line in block.splitlines() if line.strip()]


def skip_reason(line: str) -> str | None:
    return next((why for start, why in SKIPPED.items() if line.startswith(start)), None)


def split(line: str) -> tuple[list[str], str | None, str | None]:
    """(drill's arguments, text piped in by printf, file stdout is redirected to)."""
    words = shlex.split(line, comments=True)
    piped = None
    if "|" in words:
        bar = words.index("|")
        feeder, words = words[:bar], words[bar + 1 :]
        assert feeder[0] == "printf" and len(feeder) == 2, f"cannot run {line!r} as written"
        piped = feeder[1].encode().decode("unicode_escape")  # printf's \n
    output = None
    if ">" in words:
        arrow = words.index(">")
        words, output = words[:arrow], words[arrow + 1]
    assert words[0] == "drill", f"not a drill command, and not skipped with a reason: {line!r}"
    return words[1:], piped, output


@pytest.fixture
def scratch(tmp_path, monkeypatch, drill_home):
    """A fresh home (the autouse fixture), an empty folder to work in, a HOME of its own
    (completion installs write to ~), and a terminal as wide as a reader's."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.setenv("COLUMNS", "100")
    return work


def test_the_readme_shows_commands_and_skips_only_what_it_says():
    lines = commands()
    assert any(line.startswith("drill ") for line in lines)
    for line in lines:
        if skip_reason(line) is None:
            split(line)  # every other line reads as a drill command


def test_every_command_in_the_readme_runs_as_written(scratch, drill_home):
    runner = CliRunner()
    for line in commands():
        if skip_reason(line):
            continue
        args, piped, output = split(line)
        args = [PLACEHOLDERS[arg](drill_home) if arg in PLACEHOLDERS else arg for arg in args]
        result = runner.invoke(app, args, input=piped or "", prog_name="drill")
        code, _ = EXIT_CODES.get(line.split("#")[0].strip(), (0, ""))
        shown = f"{line}\n{result.output}"
        assert result.exit_code == code, shown
        assert not re.search(r"^Error: |^Traceback \(most recent", result.output, re.M), shown
        if output:
            (scratch / output).write_text(result.stdout, encoding="utf-8")


def test_the_deck_examples_lint_clean(tmp_path):
    decks = [block for block in blocks("yaml") if re.search(r"^id: .*^cards:", block, re.M | re.S)]
    assert decks
    for number, block in enumerate(decks):
        path = tmp_path / f"example-{number}.yaml"
        path.write_text(block, encoding="utf-8")
        result = CliRunner().invoke(app, ["lint", str(path)])
        assert result.exit_code == 0, f"{block}\n{result.output}"


def test_the_config_example_is_a_config_drill_reads(drill_home):
    (example,) = blocks("toml")
    (drill_home / "config.toml").write_text(example, encoding="utf-8")
    result = CliRunner().invoke(app, ["config"])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line for line in result.output.splitlines() if line.strip()}
    for name in re.findall(r"^(\w+) =", example, flags=re.M):
        assert " default " not in rows[name], rows[name]  # read from the file
