"""Every command, given bad arguments or bad files, fails cleanly: a non-zero exit, exactly one
`Error:` line on stderr, no traceback. And every command and option has help text.

Commands are discovered from the app, so a new command is covered by the generic checks at
once; BAD_ARGUMENTS must name at least one bad call for each (a test fails until it does).
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from drill.cli import app
from drill.review.store import Store

ROOT = typer.main.get_command(app)


def leaf_commands(command=ROOT, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every runnable command as its words, e.g. ("log", "export"); a group that runs on
    its own too (`drill decks` lists, `drill decks remove` removes) is one of them."""
    subcommands = getattr(command, "commands", None)
    if not subcommands:
        return [path]
    runs_alone = [path] if getattr(command, "invoke_without_command", False) else []
    return runs_alone + [
        leaf
        for name, sub in sorted(subcommands.items())
        for leaf in leaf_commands(sub, (*path, name))
    ]


def all_commands(command=ROOT, path: tuple[str, ...] = ()):
    """(words, command object) for the root, every group and every command."""
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from all_commands(sub, (*path, name))


def command_at(words: tuple[str, ...]):
    command = ROOT
    for word in words:
        command = command.commands[word]
    return command


LEAVES = leaf_commands()
DECK = (
    "id: cli\ntitle: CLI\ncards:\n"
    "  - id: one\n    q: What is one?\n    a: One.\n    tags: [interview]\n"
)


@pytest.fixture(scope="module")
def new_database(tmp_path_factory) -> Path:
    """A new, empty database, made once: each test gets a copy (making one costs fsyncs)."""
    path = tmp_path_factory.mktemp("new") / "drill.db"
    Store(path).close()
    return path


@pytest.fixture
def files(tmp_path, monkeypatch, drill_home, new_database) -> Path:
    """A database, a deck folder named by DRILL_DECKS, a CSV to import, a file that is nothing."""
    shutil.copyfile(new_database, drill_home / "drill.db")
    decks = tmp_path / "decks"
    decks.mkdir()
    (decks / "cli.yaml").write_text(DECK, encoding="utf-8")
    monkeypatch.setenv("DRILL_DECKS", str(decks))
    monkeypatch.setenv("EDITOR", "true")  # `drill edit` opens it, and it changes nothing
    monkeypatch.delenv("VISUAL", raising=False)
    (tmp_path / "cards.csv").write_text("What is two?,Two.\n", encoding="utf-8")
    (drill_home / "decks").mkdir()  # a deck of the user's own, for `drill decks remove`
    (drill_home / "decks" / "mine.yaml").write_text(DECK.replace("cli", "mine"))
    (tmp_path / "notes.txt").write_text("not a database nor a deck\n", encoding="utf-8")
    (tmp_path / "exists.out").write_text("already here\n", encoding="utf-8")
    softmax = "import numpy as np\ndef softmax(z):\n    e = np.exp(z - z.max(-1, keepdims=True))\n"
    (tmp_path / "softmax.py").write_text(softmax + "    return e / e.sum(-1, keepdims=True)\n")
    shutil.copyfile(new_database, tmp_path / "good.db")
    return tmp_path


def run(args: list[str], tmp: Path, stdin: str = "q\n"):
    args = [arg.replace("{tmp}", str(tmp)) for arg in args]
    return CliRunner().invoke(app, args, input=stdin)


def assert_clean_failure(result, code: int | None = None) -> str:
    """Non-zero exit, exactly one `Error:` line on stderr, no traceback. Returns that line."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code != 0, result.output
    if code is not None:
        assert result.exit_code == code, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.output
    return errors[0]


def assert_no_crash(result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output


SOON = (date.today() + timedelta(days=30)).isoformat()  # a date ahead, for `drill plan`

# A valid call of each command (so the generic checks below can break one thing at a time).
MINIMAL: dict[tuple[str, ...], list[str]] = {
    ("add",): ["cli", "-q", "What is two?", "-a", "Two."],
    ("backup",): [],
    ("code", "check"): ["softmax", "{tmp}/softmax.py", "--seed", "1"],
    ("code", "list"): [],
    ("code", "show"): ["softmax"],
    ("config",): [],
    ("decks",): [],
    ("decks", "remove"): ["mine"],
    ("doctor",): [],
    ("due",): [],
    ("edit",): ["cli/one"],
    ("export",): ["cli", "-o", "{tmp}/out.json", "--force"],
    ("gen",): ["conv-output-size"],
    ("import",): ["{tmp}/cards.csv", "--id", "imported"],
    ("interview",): ["cli"],
    ("lint",): [],
    ("list",): [],
    ("log", "export"): ["-o", "{tmp}/log.csv", "--force"],
    ("optimize",): [],
    ("paths",): [],
    ("plan",): ["cli", "--date", SOON],
    ("reschedule",): [],
    ("restore",): ["{tmp}/good.db"],
    ("search",): ["one"],
    ("show",): ["cli/one"],
    ("simulate",): ["--retention", "0.9", "--days", "30", "--cards", "10"],
    ("stats",): [],
    ("study",): [],
    ("suspend",): ["cli/one"],
    ("unsuspend",): ["cli/one"],
}

# Commands whose exit code 1 is a report (findings, lint errors), not an error message.
REPORTS = {("doctor",), ("lint",)}

# Bad calls that each command must refuse with one `Error:` line (code 1 unless given).
BAD_ARGUMENTS: dict[tuple[str, ...], list[list[str]]] = {
    ("add",): [["no-such-deck", "-q", "Q?", "-a", "A."], ["cli", "-q", "", "-a", "A."]],
    ("backup",): [["--list", "extra"]],
    ("code", "check"): [["no-such-exercise", "{tmp}/softmax.py"], ["softmax", "{tmp}/none.py"]],
    ("code", "list"): [["extra"]],
    ("code", "show"): [["no-such-exercise"], []],
    ("config",): [["--path", "extra"]],
    ("decks",): [["extra"]],
    ("decks", "remove"): [["cli"], ["no-such-deck"], ["intro"]],
    ("doctor",): [["extra"]],
    ("due",): [["no-such-deck"]],
    ("edit",): [["no-such/card"], ["nokey"], []],
    ("export",): [
        ["no-such-deck", "-o", "{tmp}/x.json"],
        ["cli", "-o", "{tmp}/exists.out"],
        ["cli", "-o", "{tmp}/no/such/folder/x.json"],
    ],
    ("gen",): [["no-such-generator"], ["conv-output-size", "-o", "{tmp}/exists.out"]],
    ("import",): [["{tmp}/missing.csv"], ["{tmp}/notes.txt"]],
    ("interview",): [["no-such-deck"]],
    ("lint",): [["{tmp}/missing.yaml"], ["{tmp}/notes.txt"]],
    ("list",): [["no-such-deck"], ["--due-before", "someday"]],
    ("log", "export"): [["-o", "{tmp}/exists.out"]],
    ("optimize",): [["extra"]],
    ("paths",): [["extra"]],
    ("plan",): [["cli", "--date", "someday"], ["no-such-deck", "--date", SOON], ["cli"]],
    ("reschedule",): [["extra"]],
    ("restore",): [["{tmp}/notes.txt"], ["{tmp}/missing.db"], []],
    ("search",): [[]],
    ("show",): [["no-such/card"], ["nokey"], []],
    ("simulate",): [["--retention", "1.5"]],
    ("stats",): [["no-such-deck"]],
    ("study",): [["no-such-deck"]],
    ("suspend",): [["no-such/card"], []],
    ("unsuspend",): [["no-such-deck"]],
}


def test_every_command_has_bad_argument_cases_and_a_valid_call():
    assert sorted(BAD_ARGUMENTS) == sorted(LEAVES)
    assert sorted(MINIMAL) == sorted(LEAVES)


@pytest.mark.parametrize(
    ("words", "args"),
    [(words, args) for words, cases in sorted(BAD_ARGUMENTS.items()) for args in cases],
    ids=lambda value: " ".join(value) if isinstance(value, tuple) else repr(value),
)
def test_bad_arguments_fail_cleanly(files, words, args):
    result = run([*words, *args], files)
    if words in REPORTS and result.exit_code == 1 and not result.stderr.strip():
        assert_no_crash(result)  # a report on stdout, e.g. lint's path:line: message
        assert str(files) in result.output
        return
    assert_clean_failure(result)


@pytest.mark.parametrize("words", LEAVES, ids=" ".join)
def test_an_unknown_option_is_a_usage_error(files, words):
    line = assert_clean_failure(run([*words, "--no-such-option"], files), code=2)
    assert "--no-such-option" in line


def _typed_options(kind: str):
    """Options whose type is a number or a choice (by the names of its type's classes)."""
    for words in LEAVES:
        for param in command_at(words).params:
            classes = {cls.__name__ for cls in type(param.type).__mro__}
            if param.param_type_name == "option" and any(kind in name for name in classes):
                yield words, param


@pytest.mark.parametrize(
    ("words", "param"),
    list(_typed_options("NumberParamType")),
    ids=lambda value: " ".join(value) if isinstance(value, tuple) else value.opts[0],
)
def test_a_number_option_given_text_is_a_usage_error(files, words, param):
    result = run([*words, *MINIMAL[words], param.opts[0], "many"], files)
    assert_clean_failure(result, code=2)


@pytest.mark.parametrize(
    ("words", "param"),
    list(_typed_options("Choice")),
    ids=lambda value: " ".join(value) if isinstance(value, tuple) else value.opts[0],
)
def test_a_choice_option_given_a_wrong_value_is_a_usage_error(files, words, param):
    result = run([*words, *MINIMAL[words], param.opts[0], "no-such-choice"], files)
    assert_clean_failure(result, code=2)


@pytest.mark.parametrize("words", sorted(MINIMAL), ids=" ".join)
def test_the_valid_calls_are_valid(files, words):
    result = run([*words, *MINIMAL[words]], files)
    assert result.exit_code == 0, result.output


# Bad files under the user's home


def corrupt_database(home: Path) -> bytes:
    content = b"SQLite format 3\x00" + b"\xa5" * 8000
    (home / "drill.db").write_bytes(content)
    return content


@pytest.mark.parametrize("words", sorted(MINIMAL), ids=" ".join)
def test_a_corrupt_database_is_one_error_naming_it_and_left_untouched(
    files, drill_home, monkeypatch, words
):
    # First, on the healthy database: does this command open it at all?
    opened = []
    real_init = Store.__init__

    def spying_init(self, path, **options):
        opened.append(path)
        real_init(self, path, **options)

    monkeypatch.setattr(Store, "__init__", spying_init)
    assert run([*words, *MINIMAL[words]], files).exit_code == 0
    content = corrupt_database(drill_home)

    result = run([*words, *MINIMAL[words]], files)
    assert_no_crash(result)
    if words == ("restore",):  # restoring is the cure: the damaged file is moved aside
        assert result.exit_code == 0 and "Moved the unusable database aside" in result.output
        return
    if words in REPORTS:
        assert result.exit_code in (0, 1)
    elif opened:
        line = assert_clean_failure(result, code=1)
        assert str(drill_home / "drill.db") in line and "drill restore" in line
    elif result.exit_code != 0:
        assert_clean_failure(result)
    assert (drill_home / "drill.db").read_bytes() == content


@pytest.mark.parametrize("words", sorted(MINIMAL), ids=" ".join)
def test_a_broken_config_file_is_one_error_naming_it(files, drill_home, words):
    config = drill_home / "config.toml"
    config.write_text("new_per_day = = 3\n", encoding="utf-8")
    result = run([*words, *MINIMAL[words]], files)
    assert_no_crash(result)
    if words == ("doctor",):
        assert result.exit_code == 1 and f"error    config    {config}" in result.output
    elif result.exit_code != 0:
        assert str(config) in assert_clean_failure(result, code=1)


def test_a_database_that_breaks_after_opening_is_one_error(files, drill_home):
    """Damage SQLite meets only when it reads a page deep in a table."""
    with Store(drill_home / "drill.db") as store:
        for _ in range(400):
            store.db.execute(
                "INSERT INTO review_log (key, reviewed_at, rating, state_before, state_after,"
                " due_after) VALUES (?, 0, 3, 0, 1, 0)",
                ("cli/one",),
            )
    db = sqlite3.connect(drill_home / "drill.db")
    root_page = db.execute(
        "SELECT rootpage FROM sqlite_master WHERE name = 'review_log'"
    ).fetchone()[0]
    db.close()
    path = drill_home / "drill.db"
    with path.open("r+b") as handle:  # garble the review log's root page
        handle.seek((root_page - 1) * 4096)
        handle.write(b"\xa5" * 4096)
    (drill_home / "backups").mkdir()  # a copy "made today" already, so opening checks nothing
    (drill_home / "backups" / f"drill-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-daily.db").touch()

    result = run(["show", "cli/one"], files)
    line = assert_clean_failure(result, code=1)
    assert str(path) in line


# Help


@pytest.mark.parametrize(
    ("words", "command"),
    list(all_commands()),
    ids=lambda v: " ".join(v) if isinstance(v, tuple) else "",
)
def test_every_command_and_option_has_help(words, command):
    assert (command.help or "").strip(), f"drill {' '.join(words)} has no help text"
    for param in command.params:
        if param.name == "help":
            continue
        assert (getattr(param, "help", None) or "").strip(), (
            f"drill {' '.join(words)}: {param.name} has no help text"
        )
    result = CliRunner().invoke(app, [*words, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output
