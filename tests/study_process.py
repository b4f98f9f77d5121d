"""Driving real `drill study` processes from tests: decks on disk, piped keys, reading the screen.

Shared by the crash and concurrency tests. A process reads one line per step (an empty line
reveals, a digit grades, q quits); its screen is read line by line on a thread, so a test can
wait until a given card is shown, which happens only after the previous answer is committed.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

WAIT_SECONDS = 60  # generous: a slow machine must not fail a test, only a hung process
ANSWER = "\n3\n"  # reveal, then grade good


def write_deck(folder: Path, deck_id: str, cards: int) -> list[str]:
    """A deck file of `cards` basic cards; returns their keys in deck order."""
    folder.mkdir(parents=True, exist_ok=True)
    ids = [f"c{i:02d}" for i in range(cards)]
    lines = [f"id: {deck_id}", f"title: Deck {deck_id}", "cards:"]
    for card_id in ids:
        lines += [f"  - id: {card_id}", f"    q: Question {card_id}?", f"    a: Answer {card_id}."]
    (folder / f"{deck_id}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [f"{deck_id}/{card_id}" for card_id in ids]


def drill_env(home: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "DRILL_DECKS"}
    env.update(DRILL_HOME=str(home), PYTHONUNBUFFERED="1", COLUMNS="100", TERM="dumb")
    return env


class StudyProcess:
    """A `drill study` subprocess whose keys the test types and whose screen it reads."""

    def __init__(self, home: Path, decks: Path, *args: str, script: str | None = None) -> None:
        # `script` runs instead of the plain CLI (to inject a fault); it reads sys.argv too.
        command = [sys.executable, "-c", script] if script else [sys.executable, "-m", "drill"]
        self.proc = subprocess.Popen(
            [*command, "study", "--decks", str(decks), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=drill_env(home),
        )
        self.screen: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            self._lines.put(raw.decode("utf-8", errors="replace"))
        self._lines.put(None)

    def type(self, keys: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(keys.encode("utf-8"))
        self.proc.stdin.flush()

    def wait_for(self, text: str) -> None:
        """Read the screen until a line contains `text`; fail if the process ends first."""
        while True:
            try:
                line = self._lines.get(timeout=WAIT_SECONDS)
            except queue.Empty:
                raise AssertionError(f"{text!r} never appeared:\n{''.join(self.screen)}") from None
            if line is None:
                stderr = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise AssertionError(
                    f"the process ended before {text!r}:\n{''.join(self.screen)}\n{stderr}"
                )
            self.screen.append(line)
            if text in line:
                return

    def wait_for_card(self, key: str) -> None:
        """Wait until the card `key` is on screen (its title rule reads ` key `)."""
        self.wait_for(f" {key} ")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=WAIT_SECONDS)
        assert self.proc.returncode == -signal.SIGKILL

    def finish(self, keys: str = "") -> tuple[int, str, str]:
        """Type the last keys, close input, and return (exit code, screen, stderr)."""
        assert self.proc.stdin is not None
        # A session that ran out of cards has ended by itself and reads no more keys.
        with contextlib.suppress(BrokenPipeError):
            if keys:
                self.proc.stdin.write(keys.encode("utf-8"))
            self.proc.stdin.close()
        self.proc.wait(timeout=WAIT_SECONDS)
        self._reader.join(timeout=WAIT_SECONDS)
        while not self._lines.empty():
            line = self._lines.get_nowait()
            if line is not None:
                self.screen.append(line)
        stderr = self.proc.stderr.read().decode() if self.proc.stderr else ""
        return self.proc.returncode, "".join(self.screen), stderr


def logged_keys(database: Path) -> list[str]:
    """Keys of the review log, in order, read by a plain SQLite connection."""
    db = sqlite3.connect(database)
    try:
        return [row[0] for row in db.execute("SELECT key FROM review_log ORDER BY id")]
    finally:
        db.close()


def integrity(database: Path) -> str:
    db = sqlite3.connect(database)
    try:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        db.close()


def states(database: Path) -> dict[str, tuple[int, int]]:
    """card key -> (reps, last_review) from card_state."""
    db = sqlite3.connect(database)
    try:
        rows = db.execute("SELECT key, reps, last_review FROM card_state")
        return {key: (reps, last) for key, reps, last in rows}
    finally:
        db.close()
