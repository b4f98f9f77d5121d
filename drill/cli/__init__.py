"""Command-line interface. Each module registers its commands on the shared app.

`drill CMD` imports only the module that registers CMD: importing every command module,
and letting Typer build every command, took longer than `drill due` itself needs
(benchmarks/README.md). Everything else (`drill --help`, an unknown command, and
`from drill.cli import app`, as the tests do) gets the whole application.

May import: every part; typer and rich.
Must not: hold logic (a command parses, calls a part, renders, translates errors), or be
imported by any part.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Iterator, Sequence
from typing import Any, NoReturn

from drill.cli import app as _app_module

# The submodule `app` would shadow the application object of the same name: drop it, so
# that asking for `app` goes through __getattr__ below, which registers every command.
del globals()["app"]

# Modules in the order their commands are listed by `drill --help`.
MODULES = (
    "cards_cmd",
    "code_cmd",
    "config_cmd",
    "decks_cmd",
    "export_cmd",
    "gen_cmd",
    "maintenance_cmd",
    "paths_cmd",
    "plan_cmd",
    "stats_cmd",
    "study_cmd",
)
# Which module registers each command (tests/test_cli_loading.py keeps this complete).
COMMANDS = {
    "list": "cards_cmd",
    "search": "cards_cmd",
    "add": "cards_cmd",
    "edit": "cards_cmd",
    "code": "code_cmd",
    "config": "config_cmd",
    "lint": "decks_cmd",
    "decks": "decks_cmd",
    "export": "export_cmd",
    "import": "export_cmd",
    "log": "export_cmd",
    "gen": "gen_cmd",
    "backup": "maintenance_cmd",
    "restore": "maintenance_cmd",
    "doctor": "maintenance_cmd",
    "paths": "paths_cmd",
    "plan": "plan_cmd",
    "optimize": "plan_cmd",
    "simulate": "plan_cmd",
    "reschedule": "plan_cmd",
    "stats": "stats_cmd",
    "interview": "stats_cmd",
    "study": "study_cmd",
    "due": "study_cmd",
    "show": "study_cmd",
    "suspend": "study_cmd",
    "unsuspend": "study_cmd",
}

# How `drill --help` groups the commands; a command in no group is listed under "More".
HELP_GROUPS = (
    ("Study", ("study", "due", "show", "suspend", "unsuspend", "interview")),
    ("Progress", ("stats", "plan", "optimize", "simulate", "reschedule")),
    ("Content", ("decks", "lint", "list", "search", "add", "edit", "gen", "code")),
    ("Exchange", ("export", "import", "log")),
    ("Upkeep", ("doctor", "backup", "restore", "config", "paths")),
)


def load_commands(args: Sequence[str] = ()) -> None:
    """Register the command that `args` (a command line) runs, or every command."""
    module = COMMANDS.get(_command_name(args))
    for name in (module,) if module else MODULES:
        importlib.import_module(f"drill.cli.{name}")


def _command_name(args: Sequence[str]) -> str | None:
    # The root takes only flags, so the first other word is the command; help asked of the
    # root (`drill -h due`) lists every command, so it needs them all.
    for arg in args:
        if arg in ("-h", "--help"):
            return None
        if not arg.startswith("-"):
            return arg
    return None


@contextlib.contextmanager
def _only_command(name: str | None) -> Iterator[None]:
    """While `drill NAME` runs, NAME is the only command Typer knows: it builds every
    registered command before running one, and a module's others (study's options, say)
    cost `drill due` some 10 ms. Help of the root, and an unknown name, get them all."""
    app = _app_module.app
    if name not in COMMANDS:
        yield
        return
    commands, groups = app.registered_commands, app.registered_groups
    app.registered_commands = [
        info for info in commands if (info.name or _callback_name(info.callback)) == name
    ]
    app.registered_groups = [info for info in groups if info.name == name]
    try:
        yield
    finally:
        app.registered_commands, app.registered_groups = commands, groups


def _callback_name(callback: Any) -> str:
    from typer.main import get_command_name

    return get_command_name(callback.__name__)


# The daily commands, help, and the two that write many exercises (an export's teardown
# frees some 70 ms of objects at 20,000 cards): when one has ended, the process ends at
# once (_exit_now). Each closes its stores and files itself, files written whole by
# drill.home.fileio.
QUICK_EXIT = frozenset({"study", "due", "stats", "show", "export", "gen", None})


def main() -> None:
    from drill.home.paths import pin_home

    pin_home()
    name = _command_name(sys.argv[1:])
    load_commands(sys.argv[1:])
    try:
        with _only_command(name):
            _app_module.app(prog_name="drill")  # also under `python -m drill`
        code: int | str | None = 0
    except SystemExit as end:  # how Typer ends every command, a successful one included
        code = end.code
    finally:
        # Output still buffered when the command ended goes out now, not at interpreter
        # exit, where a closed pipe would print a traceback-like warning and exit 120.
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            _app_module.silence_stdout()
    if name in QUICK_EXIT:
        _exit_now(code)
    sys.exit(code)


def _exit_now(code: int | str | None) -> NoReturn:
    """End the process as `sys.exit(code)` would, without the interpreter's teardown:
    freeing every module's objects one by one takes ~15 ms that the system does at once
    when the process ends. Exit functions still run and the output streams are flushed;
    while another thread runs, the usual exit waits for it."""
    import atexit
    import os

    threading = sys.modules.get("threading")
    run_exit_functions = getattr(atexit, "_run_exitfuncs", None)
    if run_exit_functions is None or (threading is not None and threading.active_count() > 1):
        sys.exit(code)
    run_exit_functions()
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)  # as SystemExit does with a message
        code = 1
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code or 0)


def __getattr__(name: str) -> Any:
    if name == "app":
        load_commands()
        globals()["app"] = _app_module.app
        return _app_module.app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["app", "main"]  # app comes from __getattr__
