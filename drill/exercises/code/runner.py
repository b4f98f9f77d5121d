"""Running code against test cases, and what came of each test.

A user's submission runs in a separate `python -I` process (no user site, no PYTHON*
variables, no current folder on the path) started in an empty temporary folder, with a
time limit for the whole run, a memory limit and a CPU limit where the platform has
`resource`, no standard input, and its printed output captured to a file. Its process group
is killed when time runs out, so a hang or a stray child never holds the session. Nothing
the submission does can raise in drill: every way it can fail is a field of the Run.

drill's own reference solutions are trusted and run in this process (`run_source`), through
the same wire format, so the thousands of seeds the tests check stay fast.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drill.errors import DrillError
from drill.exercises.code import harness

DEFAULT_TIME_LIMIT = 10.0
DEFAULT_MEMORY_LIMIT = 1 << 30  # address space: NumPy needs about 200 MiB of it to start
OUTPUT_CHARS = 2000  # printed output kept for the report
OUTPUT_LINES = 30
_OUTPUT_FILE_LIMIT = 64 << 20  # bytes the process may write to any file
_SIGNALS = {
    "SIGKILL": "was killed (out of memory?)",
    "SIGXCPU": "used up its CPU time",
    "SIGXFSZ": "printed too much output",
    "SIGSEGV": "crashed (segmentation fault)",
    "SIGABRT": "aborted",
}


class CannotRun(DrillError):
    """Python itself could not be started to run a submission."""


@dataclass(frozen=True)
class Outcome:
    """What one test gave back: a value, or the error it raised; and its first warnings."""

    value: Any = None
    error: Mapping[str, str] | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Run:
    loaded: bool
    outcomes: tuple[Outcome, ...] = ()  # in test order; fewer than the tests if it stopped
    load_error: Mapping[str, str] | None = None  # the file could not be imported or used
    stopped: str | None = None  # why the process ended before the last test, if it did
    output: str = ""  # what the code printed, trimmed

    @property
    def runnable(self) -> bool:
        return self.loaded and self.load_error is None


def encode_cases(cases_args: Sequence[Sequence[Any]]) -> list[list[dict[str, Any]]]:
    import numpy as np

    return [[harness.encode_argument(arg, np) for arg in args] for args in cases_args]


def run_file(
    path: Path,
    function: str,
    cases_args: Sequence[Sequence[Any]],
    *,
    time_limit: float = DEFAULT_TIME_LIMIT,
    memory_limit: int | None = DEFAULT_MEMORY_LIMIT,
) -> Run:
    """Run `function` of the file at `path` on each case's arguments, in its own process."""
    with tempfile.TemporaryDirectory(prefix="drill-code-") as folder:
        work = Path(folder)
        payload = {
            "path": str(Path(path).resolve()),
            "function": function,
            "cases": encode_cases(cases_args),
            "memory": memory_limit,
            "cpu": int(time_limit) + 2,
            "fsize": _OUTPUT_FILE_LIMIT,
        }
        (work / "payload.json").write_text(json.dumps(payload), encoding="utf-8")
        results, output = work / "results.jsonl", work / "output.txt"
        with output.open("wb") as printed:
            returncode, timed_out = _run_harness(work, printed, time_limit)
        records = _records(results)
        text = trim_output(output.read_bytes().decode("utf-8", errors="replace"))
    stopped = None
    if timed_out:
        stopped = f"timed out after {time_limit:g} s"
    elif not any("done" in record for record in records) and not _load_failed(records):
        stopped = _ending(returncode)
    return _run_from(records, stopped, text)


def _run_harness(work: Path, printed: Any, time_limit: float) -> tuple[int | None, bool]:
    command = [sys.executable, "-I", harness.__file__, "payload.json", "results.jsonl"]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    env["MKL_NUM_THREADS"] = "1"  # one thread: a memory limit and BLAS thread pools clash
    try:
        process = subprocess.Popen(
            command,
            cwd=work,
            stdin=subprocess.DEVNULL,
            stdout=printed,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=os.name != "nt",
        )
    except OSError as error:
        raise CannotRun(f"cannot start {sys.executable} to run the code: {error}") from None
    try:
        return process.wait(timeout=time_limit), False
    except subprocess.TimeoutExpired:
        _kill(process)
        return process.returncode, True
    except BaseException:  # Ctrl-C while the tests run: leave nothing running behind
        _kill(process)
        raise


def _kill(process: subprocess.Popen[bytes]) -> None:
    """Kill the process and everything it started (its own session's process group)."""
    with contextlib.suppress(ProcessLookupError, PermissionError, AttributeError):
        if os.name != "nt":
            os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        process.kill()
    process.wait()


def _ending(returncode: int | None) -> str:
    if returncode is not None and returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"the process {_SIGNALS.get(name, f'was stopped by {name}')}"
    return f"the process exited with code {returncode} before the tests finished"


def _records(results: Path) -> list[dict[str, Any]]:
    records = []
    try:
        lines = results.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:  # a line cut short when the process was killed
            break
        if isinstance(record, dict):
            records.append(record)
    return records


def _load_failed(records: list[dict[str, Any]]) -> bool:
    return any("load_error" in record for record in records)


def _run_from(records: list[dict[str, Any]], stopped: str | None, output: str) -> Run:
    import numpy as np

    loaded = any(record.get("loaded") for record in records)
    load_error = next((r["load_error"] for r in records if "load_error" in r), None)
    outcomes = []
    for record in records:
        if "case" not in record:
            continue
        value = harness.decode(record["value"], np) if "value" in record else None
        warnings = tuple(str(w) for w in record.get("warnings", ()))
        outcomes.append(Outcome(value, record.get("error"), warnings))
    return Run(loaded, tuple(outcomes), load_error, stopped, output)


def trim_output(text: str) -> str:
    """The start of what was printed: at most OUTPUT_LINES lines and OUTPUT_CHARS characters."""
    lines = text.splitlines()
    kept = "\n".join(lines[:OUTPUT_LINES])
    if len(kept) > OUTPUT_CHARS:
        kept = kept[:OUTPUT_CHARS]
    if len(kept) < len("\n".join(lines)):
        kept += f"\n… ({len(text) - len(kept)} more characters)"
    return kept


def run_source(source: str, function: str, cases_args: Sequence[Sequence[Any]]) -> Run:
    """Run trusted code (drill's reference solutions) in this process, through the same
    wire format as a submission, so what it returns is graded exactly the same way."""
    import numpy as np

    filename = os.path.abspath(f"<{function}>")
    namespace: dict[str, Any] = {"__name__": "reference"}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(source, filename, "exec"), namespace)
        fn = namespace[function]
        records = []
        for encoded in encode_cases(cases_args):
            decoded = json.loads(json.dumps(encoded))
            args = [harness.decode_argument(item, np) for item in decoded]
            record = harness.call(fn, args, np, filename)
            records.append({"case": len(records), **json.loads(json.dumps(record))})
    return _run_from([{"loaded": True}, *records, {"done": True}], None, printed.getvalue())
