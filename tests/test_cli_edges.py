"""The root's edges: a closed output pipe is a normal end, and `--help` groups the commands."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from drill.cli import HELP_GROUPS, app


@pytest.mark.parametrize(
    "args",
    [
        ["due"],  # plain text through typer.echo
        ["stats"],  # rich tables
        ["decks"],
        ["export", "intro", "--format", "md", "-o", "-"],  # a long write to stdout
    ],
)
def test_a_closed_pipe_is_a_normal_end(args, drill_home):
    """`drill due | head -1`: the reader is gone before drill writes; exit 0, nothing said."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "drill", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={"DRILL_HOME": str(drill_home), "PATH": "", "COLUMNS": "80"},
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before drill has started: every write meets a closed pipe
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, stderr
    assert "Wrote" not in stderr or args[0] == "export"
    assert "Error" not in stderr and "Traceback" not in stderr and "Exception" not in stderr


def test_help_lists_the_commands_in_groups():
    result = CliRunner().invoke(app, ["--help"], prog_name="drill")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    titles = [title for title, _ in HELP_GROUPS]
    shown = [line[:-1] for line in lines if line[:-1] in titles and line.endswith(":")]
    assert shown == titles[: len(shown)] and {"Study", "Progress", "Upkeep"} <= set(shown)
    study = lines.index("Study:")
    assert lines[study + 1].split()[0] == "study"
    assert lines[study + 2].split()[0] == "due"
    upkeep = lines[lines.index("Upkeep:") + 1 :]
    assert upkeep[0].split()[0] == "doctor"
    # the descriptions line up across the groups
    rows = [line for line in lines[study:] if line.startswith("  ") and line.split()[0].isalpha()]
    columns = {len(row) - len(row.split(maxsplit=1)[1]) for row in rows}
    assert len(rows) >= 15 and len(columns) == 1
