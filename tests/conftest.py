"""Every test runs in its own DRILL_HOME, with no extra deck folders from the environment.

The test process runs drill as the wheel ships it: the built-in decks come parsed from the
table the build hook makes (drill.decks.shipped), built here once, from the checkout's decks,
by the same function. Without it each new home parses all of them again (about a second).
A test about how a source checkout parses them asks for `checkout_decks`.
"""

from __future__ import annotations

import json
import os
import tempfile

import pytest
import typer.main
import typer.testing

from drill.decks import prebuilt, shipped
from drill.home.paths import builtin_decks_dir

_CHECKOUT_TABLE = shipped._table


def _with_a_shipped_table():
    """shipped._table, answering for the checkout's decks folder with a table built from it
    (None when the decks do not build: their tests then report what is wrong)."""
    folder = os.path.abspath(builtin_decks_dir())
    try:
        built = json.loads(prebuilt.build(builtin_decks_dir()))
    except prebuilt.BrokenBuiltinDeck:
        return None

    def table(asked: str):
        if asked == folder and os.path.abspath(shipped.builtin_decks_dir()) == folder:
            return built
        return _CHECKOUT_TABLE(asked)

    table.cache_clear = _CHECKOUT_TABLE.cache_clear  # as tests of the table clear the real one
    return table


def _built_once(build):
    """typer.main.get_command, building an application's click command once, and again
    only when commands were registered since (as a new process would see them)."""
    built: dict = {}  # holds each app too, so that its id is never another's

    def get_command(app):
        key = (id(app), len(app.registered_commands), len(app.registered_groups))
        if key not in built:
            built[key] = (app, build(app))
        return built[key][1]

    return get_command


@pytest.fixture(scope="session", autouse=True)
def shipped_decks_and_one_click_command():
    """The shipped table (in a checkout, which has none), and CliRunner building the click
    command once instead of at each invoke (~50 ms)."""
    with pytest.MonkeyPatch.context() as patch:
        if not (builtin_decks_dir() / shipped.FILE_NAME).exists():
            table = _with_a_shipped_table()
            if table is not None:
                patch.setattr(shipped, "_table", table)
        patch.setattr(typer.testing, "_get_command", _built_once(typer.main.get_command))
        yield


@pytest.fixture
def checkout_decks(monkeypatch):
    """The built-in decks parsed, as a source checkout parses them (no shipped table)."""
    monkeypatch.setattr(shipped, "_table", _CHECKOUT_TABLE)


@pytest.fixture(autouse=True)
def drill_home(tmp_path, monkeypatch):
    # Temporary files (editor drafts, code submissions) stay in the test's own folder too.
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setenv("TMPDIR", str(scratch))
    home = tmp_path / "drill-home"
    home.mkdir()
    monkeypatch.setenv("DRILL_HOME", str(home))
    monkeypatch.delenv("DRILL_DECKS", raising=False)
    # Widths come from the terminal, as a user's do: pytest-xdist's workers set COLUMNS and
    # LINES, which drill in a tmux pane would take over the pane's own size.
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)
    return home


@pytest.fixture
def store(tmp_path):
    """A fresh database; a test module may define its own `store` to fill it."""
    from drill.review.store import Store

    with Store(tmp_path / "drill.db") as store:
        store.db.execute("PRAGMA synchronous = OFF")  # the tests do not need crash safety
        yield store


@pytest.fixture
def local_tz(monkeypatch):
    """Pin the local time zone for one test (UTC until the test asks for another)."""
    import time

    def pin(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    pin("UTC")
    yield pin
    monkeypatch.undo()
    time.tzset()
