"""Opening a file in the user's editor ($VISUAL, else $EDITOR), at a given line.

Editors take the line in different ways: `+LINE FILE` (vi, vim, nvim, nano, emacs, micro,
kakoune and most terminal editors), `--goto FILE:LINE` (VS Code, which must also be told
to wait for the file to be closed), `FILE:LINE` (Sublime Text, Helix, Zed). An editor
not known here gets the file alone.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

from drill.errors import DrillError

_PLUS_LINE = {"vi", "vim", "nvim", "gvim", "nano", "pico", "emacs", "emacsclient", "micro",
              "kak", "joe", "jed", "ne", "mg", "mcedit", "ed", "ex", "view"}  # fmt: skip
_GOTO = {"code", "code-insiders", "codium", "cursor"}
_COLON = {"subl", "hx", "helix", "zed", "mate"}
_WAIT = {"code", "code-insiders", "codium", "cursor", "subl", "zed", "mate"}


class EditorFailed(DrillError):
    """The editor could not be started, or ended with an error."""


def editor_command() -> list[str]:
    """The editor the user asked for, as a command line; vi (notepad on Windows) without."""
    chosen = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if not chosen or not chosen.strip():
        return ["notepad"] if os.name == "nt" else ["vi"]
    try:
        return shlex.split(chosen, posix=os.name != "nt")
    except ValueError:
        raise EditorFailed(f"cannot read the editor command {chosen!r} ($VISUAL/$EDITOR)") from None


def editor_args(command: list[str], path: Path, line: int | None) -> list[str]:
    """The whole command line opening `path` at `line` with `command`."""
    name = Path(command[0]).name.lower().removesuffix(".exe")
    args = list(command)
    if name in _WAIT and not {"-w", "--wait"} & set(args):
        args.append("--wait")  # else it returns at once, before the file is edited
    if line is None:
        return [*args, str(path)]
    if name in _PLUS_LINE:
        return [*args, f"+{line}", str(path)]
    if name in _GOTO:
        return [*args, "--goto", f"{path}:{line}"]
    if name in _COLON:
        return [*args, f"{path}:{line}"]
    return [*args, str(path)]


def edit_file(path: Path, line: int | None = None) -> None:
    """Open `path` in the editor and wait until it is closed."""
    args = editor_args(editor_command(), path, line)
    try:
        result = subprocess.run(args, check=False)
    except OSError as error:
        raise EditorFailed(
            f"cannot start the editor {args[0]!r}: {error.strerror or error}; set $EDITOR"
        ) from None
    if result.returncode != 0:
        raise EditorFailed(f"the editor {args[0]!r} exited with status {result.returncode}")
