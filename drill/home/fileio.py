"""Files drill writes and reads on request: atomic writes, and reads bounded in size.

A write goes to a temporary file in the target's folder (so the final rename stays on one
file system), is flushed to disk, and only then takes the target's name: a reader sees the
old file or the whole new one, never half of it. Only regular files are written or
replaced; a symbolic link, a device or a pipe in the target's place is refused. Every
failure is a DrillError naming the path and the reason.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from drill.errors import DrillError

_CHUNK = 64 * 1024
# 0o666 like any program creating a file: the umask then takes away what the user wants
# kept private. (tempfile.mkstemp would make every file 0o600.)
_NEW_FILE_MODE = 0o666


class OutputExists(DrillError):
    """The output file exists and overwriting was not asked for."""


class CannotWrite(DrillError):
    """The output file cannot be written; the message names it and gives the reason."""


class FileTooLarge(DrillError):
    """A file is larger than drill reads for its purpose."""


def atomic_write(path: Path, data: str | bytes, *, force: bool = False) -> None:
    """Write `data` (text as UTF-8) to `path` atomically; refuse to replace it unless `force`."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_writer(path, force=force) as out:
        out.write(raw)


@contextlib.contextmanager
def atomic_writer(path: Path, *, force: bool = False) -> Iterator[IO[bytes]]:
    """A binary file that becomes `path` when the block ends without an exception.

    A forced write keeps the permissions of the file it replaces; a new file gets the
    user's umask. An OSError while writing becomes CannotWrite; the temporary file is
    removed whatever happens.
    """
    path = Path(path)
    existing = refuse_existing(path, force=force)
    fd, temp = _create_temp(path)
    try:
        try:
            with os.fdopen(fd, "wb") as out:
                yield out
                out.flush()
                os.fsync(out.fileno())
            if existing is not None:
                os.chmod(temp, stat.S_IMODE(existing.st_mode))
            _publish(temp, path, force=force)
        except OSError as error:
            raise _cannot_write(path, error) from None
    finally:
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)
    _sync_folder(path.parent)


def refuse_existing(path: Path, *, force: bool) -> os.stat_result | None:
    """Fail early, before any work is done, when `path` cannot or must not be written.

    Returns the status of the regular file that a forced write would replace, if any.
    """
    existing = _regular_file(path)
    if not path.parent.is_dir():
        raise DrillError(f"{path.parent}: no such folder")
    if existing is not None and not force:
        raise OutputExists(f"{path} already exists (use --force to overwrite it)")
    return existing


def _regular_file(path: Path) -> os.stat_result | None:
    """The status of the file at `path`, None if there is none; anything else is refused.

    lstat, not stat: replacing a symbolic link would silently cut it, and following it
    would write wherever it points.
    """
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise _cannot_write(path, error) from None
    if stat.S_ISDIR(info.st_mode):
        raise DrillError(f"{path} is a folder; name a file to write")
    if not stat.S_ISREG(info.st_mode):
        raise CannotWrite(
            f"{path} is {_kind(info.st_mode)}, not a regular file; drill will not replace it"
        )
    return info


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _create_temp(path: Path) -> tuple[int, Path]:
    """A new empty file beside `path`, open for writing, with a name no one else has."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(temp, flags, _NEW_FILE_MODE), temp
        except FileExistsError:
            continue
        except OSError as error:
            raise _cannot_write(path, error) from None
    raise CannotWrite(f"cannot write {path}: no free temporary name in {path.parent}")


def _publish(temp: Path, path: Path, *, force: bool) -> None:
    if force:
        _regular_file(path)  # again: something else may have taken the name meanwhile
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


def _cannot_write(path: Path, error: OSError) -> CannotWrite:
    return CannotWrite(f"cannot write {path}: {error.strerror or error}")


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


def read_limited(path: Path, max_bytes: int, purpose: str) -> bytes:
    """The bytes of the file at `path`, refused (FileTooLarge) above `max_bytes`.

    The size is checked before reading, and at most max_bytes + 1 bytes are read: the file
    may have grown since, or report no size at all (a pipe, a /proc file). `purpose` ends
    the message: "above the 5.0 MiB limit for <purpose>". OSError is left to the caller.
    """
    size = path.stat().st_size
    if size > max_bytes:
        raise _too_large(path, f"{_size(size)}", max_bytes, purpose)
    chunks: list[bytes] = []
    total = 0
    with path.open("rb") as handle:
        while total <= max_bytes:
            chunk = handle.read(min(_CHUNK, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    if total > max_bytes:
        raise _too_large(path, f"over {_size(max_bytes)}", max_bytes, purpose)
    return b"".join(chunks)


def _too_large(path: Path, size: str, max_bytes: int, purpose: str) -> FileTooLarge:
    return FileTooLarge(f"{path}: file is {size}, above the {_size(max_bytes)} limit for {purpose}")


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MiB" if n >= 1024 * 1024 else f"{n} bytes"
