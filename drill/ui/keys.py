"""Reading the user's keys: single keypresses on a terminal, one line per step otherwise.

When stdin is not a terminal (a pipe, a file, a test), each step reads one line, so a
session can be scripted: an empty line reveals, a digit grades, `u`, `s`, `q` as typed.
"""

from __future__ import annotations

import io
import os
import sys
from typing import TextIO

QUIT = "q"
ENTER = ""


class Keys:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdin
        if isinstance(self.stream, io.TextIOWrapper):
            # Bytes that are not text in the locale's encoding (a stray paste, a binary pipe)
            # read as U+FFFD instead of ending the session with a UnicodeDecodeError.
            self.stream.reconfigure(errors="replace")
        try:
            self.is_tty = self.stream.isatty()
        except (AttributeError, ValueError):
            self.is_tty = False

    def key(self) -> str:
        """One command: a single key on a terminal, one stripped line otherwise.

        Enter and space read as "" (ENTER). End of input raises EOFError.
        """
        if not self.is_tty:
            return self._line().strip().lower()
        char = _read_char(self.stream)
        if char in ("\r", "\n", " "):
            return ENTER
        if char in ("\x04", ""):  # Ctrl-D
            raise EOFError
        return char.lower()

    def line(self) -> str:
        """A whole line of text (a typed answer), without its newline."""
        if self.is_tty:
            return input()
        return self._line().rstrip("\r\n")

    def _line(self) -> str:
        line = self.stream.readline()
        if line == "":
            raise EOFError
        return line


def _read_char(stream: TextIO) -> str:
    """Read one keypress without waiting for Enter; Ctrl-C still raises KeyboardInterrupt."""
    if os.name == "nt":  # pragma: no cover - Windows console
        import msvcrt

        return msvcrt.getwch()
    import termios
    import tty

    fd = stream.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        data = os.read(fd, 4)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
    return data.decode("utf-8", errors="replace")[:1]
