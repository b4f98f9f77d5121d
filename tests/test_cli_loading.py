"""What a command loads: only its own module, and none of the heavy libraries it does not
use. Start-up time itself is measured by benchmarks/bench_startup.py, not here."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.main import get_command

from drill import cli
from drill.cli import COMMANDS, MODULES, app
from drill.review.store import Store

HEAVY = ("numpy", "fsrs", "genanki", "markdown_it", "pydantic", "drill.engine")
EXPORTERS = ("drill.exchange.apkg", "drill.exchange.markdown", "drill.exchange.delimited")


def loaded_after(args: list[str], home, cwd=None) -> dict:
    """Run `drill ARGS` in a fresh interpreter; the modules loaded, the commands registered
    and those Typer built.
    `cwd`: the folder it starts in, whose drill package comes first."""
    script = (
        "import atexit, json, sys\n"
        "import typer.main\n"  # (drill.cli imports it anyway)
        "built = []\n"  # the commands Typer builds to run this one
        "real = typer.main.get_group\n"
        "def spy(app):\n    group = real(app)\n    built.extend(group.commands)\n    return group\n"
        "typer.main.get_group = spy\n"
        "from drill.cli import main, _app_module\n"
        "def report():\n"  # at exit: a daily command ends the process from main()
        "    names = [c.name or c.callback.__name__ for c in _app_module.app.registered_commands]\n"
        "    found = {'modules': sorted(sys.modules), 'commands': names, 'built': built}\n"
        "    print(json.dumps(found))\n"
        "atexit.register(report)\n"
        f"sys.argv = ['drill', *{args!r}]\n"
        "main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={"DRILL_HOME": str(home), "PATH": ""},
        cwd=cwd,
    )
    return json.loads(result.stdout.splitlines()[-1])


def test_the_table_names_every_command_and_nothing_else():
    assert set(get_command(app).commands) == set(COMMANDS)
    assert set(COMMANDS.values()) == set(MODULES)


@pytest.mark.parametrize("module", MODULES)
def test_each_module_registers_the_commands_the_table_gives_it(module, drill_home):
    names = sorted(name for name, owner in COMMANDS.items() if owner == module)
    loaded = loaded_after([names[0], "--help"], drill_home)
    assert f"drill.cli.{module}" in loaded["modules"]
    others = {f"drill.cli.{m}" for m in MODULES} - {f"drill.cli.{module}"}
    assert not others & set(loaded["modules"])
    groups = [name for name in names if name in ("log", "code", "decks")]  # sub-apps
    assert sorted(loaded["commands"] + groups) == names


def test_drill_due_loads_no_heavy_library_and_no_exporter(drill_home):
    Store(drill_home / "drill.db").close()  # a home in use (`drill due` makes no database)
    loaded_after(["due"], drill_home)  # fills the deck cache, which needs a database
    modules = set(loaded_after(["due"], drill_home)["modules"])
    assert not {m for m in modules if m.startswith(HEAVY)}
    assert not {
        m for m in modules if m.startswith(("drill.exchange.export", "yaml", "drill.decks.reader"))
    }
    assert "rich.console" not in modules  # the table is plain text
    assert "drill.cli.export_cmd" not in modules
    # Nor what only a date, a deck read afresh or an old stamp needs.
    assert not modules & {"drill.review.planning", "drill.decks.scheduled", "_strptime"}
    assert "tomllib" not in modules  # the curriculum comes parsed from the deck cache


def test_a_brand_new_home_counts_the_shipped_decks_without_reading_them(drill_home, tmp_path):
    """drill as the wheel lays it out, built-in decks and their table beside it: a new
    home's `drill due` (which makes no file there), and the first in a home with a database
    (which fills the deck cache), take headers and study keys from the table, without
    PyYAML, the parser or the scheduled cards."""
    import os
    import shutil

    import drill
    from drill.decks import prebuilt, shipped
    from drill.home.paths import builtin_decks_dir

    package = tmp_path / "site" / "drill"
    shutil.copytree(
        os.path.dirname(drill.__file__), package, ignore=shutil.ignore_patterns("__pycache__")
    )
    decks = shutil.copytree(builtin_decks_dir(), package / "_builtin_decks")
    (decks / shipped.FILE_NAME).write_text(prebuilt.build(decks), encoding="utf-8")
    for run in ("new home", "new home again", "database made"):
        if run == "database made":
            assert not list(drill_home.iterdir())  # the new home was left as it was
            Store(drill_home / "drill.db").close()
        modules = set(loaded_after(["due"], drill_home, cwd=package.parent)["modules"])
        assert modules & {"drill.decks.shipped", "drill.decks.index"}, run
        unread = {"yaml", "drill.decks.reader", "drill.decks.check", "drill.decks.scheduled"}
        unread.add("tomllib")  # the curriculum too comes parsed from the table
        assert not modules & unread, run
    assert (drill_home / "deck-cache.db").exists()  # filled by the last run


def test_drill_help_lists_everything_and_loads_no_heavy_library(drill_home):
    loaded = loaded_after(["--help"], drill_home)
    modules = set(loaded["modules"])
    assert {f"drill.cli.{m}" for m in MODULES} <= modules
    assert not {m for m in modules if m.startswith(HEAVY + EXPORTERS)}
    assert "drill.decks.loader" not in modules and "yaml" not in modules


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (["due"], "due"),
        (["--version"], None),
        (["-h", "due"], None),  # help of the root lists every command
        (["log", "export", "-o", "x"], "log"),
        (["dew"], "dew"),  # unknown: every module is loaded, so click can suggest
    ],
)
def test_the_command_name_is_read_from_the_command_line(args, name):
    assert cli._command_name(args) == name


def test_a_command_run_is_the_only_one_typer_builds(drill_home):
    seen = loaded_after(["due"], drill_home)
    assert seen["built"] == ["due"]
    assert "study" in seen["commands"]  # the module's others are registered again after


def test_drill_stats_loads_neither_sessions_nor_plans_nor_a_spinner_for_a_script(drill_home):
    loaded_after(["due"], drill_home)  # a home in use
    modules = set(loaded_after(["stats", "--json"], drill_home)["modules"])
    assert "drill.review.stats" in modules
    assert not modules & {"drill.review.session", "drill.review.planning", "rich.status"}
