"""Reading the user's keys: single keypresses on a terminal, one line per step otherwise.

When stdin is not a terminal (a pipe, a file, a test), each step reads one line, so a
session can be scripted: an empty line reveals, a digit grades, `u`, `s`, `q` as typed.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from typing import TextIO

QUIT = "q"
ENTER = ""
ESCAPE = "\x1b"  # what an arrow or function key reads as: no command
RESIZE = "\x00resize"  # not a key: the terminal changed size while a key was awaited
_RESIZE_POLL = 0.25  # seconds between looks at the terminal's size while waiting


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
        self._size = self._terminal_size()

    def _terminal_size(self) -> os.terminal_size | None:
        try:
            return os.get_terminal_size(self.stream.fileno()) if self.is_tty else None
        except (OSError, ValueError, AttributeError):
            return None

    def _resized(self) -> bool:
        """Whether the terminal changed size since this was last asked (or Keys was made)."""
        size = self._terminal_size()
        if size == self._size:
            return False
        self._size = size
        return True

    def key(self) -> str:
        """One command: a single key on a terminal, one stripped line otherwise.

        Enter and space read as "" (ENTER). End of input raises EOFError.
        """
        if not self.is_tty:
            return self._line().strip().lower()
        char = _read_char(self.stream, self._resized)
        if char == RESIZE:
            return RESIZE
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


def _read_char(stream: TextIO, resized: Callable[[], bool] | None = None) -> str:
    """Read one keypress without waiting for Enter; Ctrl-C still raises KeyboardInterrupt.

    Keys typed ahead, while a card was being drawn, are read one at a time, none lost. An
    arrow or function key reads as one ESC, so the digits of its sequence are not grades.
    While no key comes, `resized()` is asked now and then: RESIZE is returned once it
    says the terminal changed size, so the screen can be drawn again.
    """
    if os.name == "nt":  # pragma: no cover - Windows console
        import msvcrt

        return read_windows_key(msvcrt.getwch)
    import termios
    import tty

    fd = stream.fileno()
    saved = termios.tcgetattr(fd)
    try:
        # TCSANOW: tty's default, TCSAFLUSH, would throw away the keys typed ahead.
        tty.setcbreak(fd, termios.TCSANOW)
        while resized is not None and not _ready(fd, _RESIZE_POLL):
            if resized():
                return RESIZE
        data = os.read(fd, 1)
        if data == ESCAPE.encode():
            _skip_escape_sequence(fd)
        else:
            while data and len(data) < _utf8_length(data[0]):
                more = os.read(fd, 1)
                if not more:
                    break
                data += more
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
    return data.decode("utf-8", errors="replace")[:1]


def read_windows_key(getwch: Callable[[], str]) -> str:
    """One key from msvcrt.getwch, which gives a special key as "\\x00" or "\\xe0" and then
    its code: read whole, as ESC, so Delete ("S") does not suspend nor Page Down ("Q") quit."""
    char = getwch()
    if char in ("\x00", "\xe0"):
        getwch()
        return ESCAPE
    if char == "\x03":  # Ctrl-C, should the console hand it over as a character
        raise KeyboardInterrupt
    return char


def _utf8_length(lead: int) -> int:
    """How many bytes the UTF-8 character starting with byte `lead` takes."""
    return 4 if lead >= 0xF0 else 3 if lead >= 0xE0 else 2 if lead >= 0xC0 else 1


def _skip_escape_sequence(fd: int) -> None:
    """Read the rest of ESC [ params final (arrows, Delete, F5...) or ESC O x (F1-F4).

    A terminal sends a sequence in one write, so its bytes are there at once; the Escape key
    alone has nothing after it.
    """
    if not _ready(fd):
        return
    second = os.read(fd, 1)
    if second == b"O" and _ready(fd):
        os.read(fd, 1)
    elif second == b"[":
        while _ready(fd):
            byte = os.read(fd, 1)
            if not byte or 0x40 <= byte[0] <= 0x7E:  # the final byte of the sequence
                return


def _ready(fd: int, timeout: float = 0.05) -> bool:
    import select

    return bool(select.select([fd], [], [], timeout)[0])
