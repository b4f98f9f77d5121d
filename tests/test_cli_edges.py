"""The root's edges: a closed output pipe is a normal end, and `--help` groups the commands."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from drill.cli import HELP_GROUPS, QUICK_EXIT, app


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


# The daily commands end the process at once (drill.cli._exit_now)


def run_main(drill_home, args: list[str], before: str = "") -> subprocess.CompletedProcess:
    """`drill ARGS` through drill.cli.main in a fresh interpreter, after `before` ran."""
    command = f"from drill.cli import main\nsys.argv = ['drill', *{args!r}]\nmain()\n"
    script = f"import sys\n{before}\n{command}"
    return subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={"DRILL_HOME": str(drill_home), "PATH": "", "COLUMNS": "80"},
        timeout=60,
    )


def test_a_daily_command_ends_with_its_whole_output_and_exit_code(drill_home):
    assert "due" in QUICK_EXIT
    ended = run_main(drill_home, ["due"])
    assert ended.returncode == 0, ended.stderr
    assert ended.stdout == CliRunner().invoke(app, ["due"]).output  # every line, flushed
    unknown = run_main(drill_home, ["show", "nope/card"])
    assert unknown.returncode == 1 and unknown.stderr.startswith("Error: no deck 'nope'")
    misused = run_main(drill_home, ["due", "--bogus"])
    assert misused.returncode == 2 and "No such option: --bogus" in misused.stderr


def test_exit_functions_run_and_a_running_thread_is_waited_for(drill_home):
    before = (
        "import atexit, threading\n"
        "atexit.register(lambda: print('exit functions ran'))\n"
        "def late():\n    threading.main_thread().join()\n    print('the thread finished')\n"
        "threading.Thread(target=late).start()\n"
    )
    ended = run_main(drill_home, ["due"], before)  # the thread outlives the command
    assert ended.returncode == 0, ended.stderr
    assert ended.stdout.endswith("20 new).\nthe thread finished\nexit functions ran\n")
    alone = run_main(drill_home, ["due"], before.rsplit("threading.Thread", 1)[0])
    assert alone.stdout.endswith("exit functions ran\n")


def test_an_exit_with_a_message_says_it_and_fails():
    script = "from drill.cli import _exit_now\n_exit_now('the message')\n"
    ended = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert (ended.returncode, ended.stderr) == (1, "the message\n")
