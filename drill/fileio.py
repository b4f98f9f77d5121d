"""Atomic file writes: a reader sees the old file or the whole new one, never half of it.

The data goes to a temporary file in the target's folder (so the final rename stays on one
file system), is flushed to disk, and only then takes the target's name.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from drill.errors import DrillError


class OutputExists(DrillError):
    """The output file exists and overwriting was not asked for."""


def atomic_write(path: Path, data: str | bytes, *, force: bool = False) -> None:
    """Write `data` (text as UTF-8) to `path` atomically; refuse to replace it unless `force`."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_writer(path, force=force) as out:
        out.write(raw)


@contextlib.contextmanager
def atomic_writer(path: Path, *, force: bool = False) -> Iterator[IO[bytes]]:
    """A binary file that becomes `path` when the block ends without an exception."""
    path = Path(path)
    refuse_existing(path, force=force)
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        _publish(temp, path, force=force)
    finally:
        temp.unlink(missing_ok=True)
    _sync_folder(path.parent)


def refuse_existing(path: Path, *, force: bool) -> None:
    """Fail early, before any work is done, when `path` cannot or must not be written."""
    if path.is_dir():
        raise DrillError(f"{path} is a folder; name a file to write")
    if not path.parent.is_dir():
        raise DrillError(f"{path.parent}: no such folder")
    if path.exists() and not force:
        raise OutputExists(f"{path} already exists (use --force to overwrite it)")


def _publish(temp: Path, path: Path, *, force: bool) -> None:
    if force:
        os.replace(temp, path)
        return
    # A hard link fails if the target appeared meanwhile, so two writers cannot clobber
    # each other; file systems without hard links fall back to a checked rename.
    try:
        os.link(temp, path)
    except FileExistsError:
        raise OutputExists(f"{path} already exists (use --force to overwrite it)") from None
    except OSError:
        refuse_existing(path, force=False)
        os.replace(temp, path)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable; not every platform can open a folder."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
