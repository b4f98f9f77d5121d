"""The program that runs a submission, in its own `python -I` process, and the wire format.

    python -I harness.py PAYLOAD RESULTS

PAYLOAD is JSON: {"path": the submission, "function": its name, "cases": [[arg, …], …],
"memory", "fsize": bytes, "cpu": seconds}. RESULTS gets one JSON line per event, flushed at once,
so whatever ran before a hang or a crash is known:

    {"loaded": true}                                   the file imported and defines the function
    {"load_error": {"type", "message", "where"}}       it did not (nothing else follows)
    {"case": i, "value": VALUE, "warnings": […]}        test i returned
    {"case": i, "error": {…}, "warnings": […]}          test i raised
    {"done": true}

Values cross as JSON: {"array": nested list, "dtype", "shape"}, {"scalar", "dtype"},
{"sequence": […]} (and "list": true for a list), {"none": true}, {"function": source,
"names": {…}} (arguments only) and {"object": type name, "repr"} for anything else a
submission returns. Non-finite floats are
written as NaN and Infinity, which Python's json reads back.

The module imports nothing of drill, and numpy only once the limits are set: drill's
process imports it for the same encoders, so both sides share one definition.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import traceback
import warnings
from typing import Any

MAX_ELEMENTS = 1_000_000  # a returned array larger than this is not sent back
MAX_DEPTH = 3  # tuples inside tuples, at most
MAX_WARNINGS = 3


# -- the wire format -------------------------------------------------------------------------


def encode(value: Any, np: Any, depth: int = 0) -> dict[str, Any]:
    """A value as JSON-ready data (any value at all: what cannot be sent is described)."""
    if value is None:
        return {"none": True}
    if isinstance(value, tuple | list) and depth < MAX_DEPTH:
        items = [encode(item, np, depth + 1) for item in value]
        return {"sequence": items, "list": True} if isinstance(value, list) else {"sequence": items}
    if isinstance(value, bool | int | float | np.generic) and not isinstance(value, complex):
        array = np.asarray(value)
        if array.dtype.kind in "biuf":
            return {"scalar": array.item(), "dtype": array.dtype.name}
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        if value.size > MAX_ELEMENTS:
            return _object(value, f"an array of shape {value.shape}, too large to compare")
        return {"array": value.tolist(), "dtype": value.dtype.name, "shape": list(value.shape)}
    return _object(value)


def _object(value: Any, text: str | None = None) -> dict[str, Any]:
    if text is None:
        try:
            text = repr(value)
        except Exception:  # a broken __repr__ of the submission's own class
            text = "?"
    kind = type(value).__name__
    if hasattr(value, "dtype") and hasattr(value, "shape"):
        kind += f" of dtype {value.dtype}, shape {tuple(value.shape)}"
    return {"object": kind, "repr": text[:200]}


def decode(data: dict[str, Any], np: Any) -> Any:
    """The value `encode` wrote: arrays of their dtype and shape, Python scalars, tuples."""
    if "array" in data:
        return np.array(data["array"], dtype=data["dtype"]).reshape(data["shape"])
    if "scalar" in data:
        return np.asarray(data["scalar"], dtype=data["dtype"])[()]
    if "sequence" in data:
        items = [decode(item, np) for item in data["sequence"]]
        return items if data.get("list") else tuple(items)
    if "none" in data:
        return None
    if "function" in data:
        return _function(data, np)
    return Foreign(data.get("object", "object"), data.get("repr", ""))


def encode_argument(value: Any, np: Any) -> dict[str, Any]:
    """An argument: arrays keep their dtype; a Python int, float or bool stays one."""
    if isinstance(value, bool | int | float):
        return {"scalar": value, "dtype": "python"}
    if hasattr(value, "source") and hasattr(value, "names"):  # spec.Function
        names = {key: encode(np.asarray(v), np) for key, v in value.names.items()}
        return {"function": value.source, "names": names}
    return encode(value, np)


def decode_argument(data: dict[str, Any], np: Any) -> Any:
    if data.get("dtype") == "python":
        return data["scalar"]
    return decode(data, np)


def _function(data: dict[str, Any], np: Any) -> Any:
    namespace = {"np": np, **{k: decode(v, np) for k, v in data["names"].items()}}
    exec(compile(data["function"], "<drill function>", "exec"), namespace)
    return namespace["f"]


class Foreign:
    """Something a submission returned that is not a number, an array or a tuple."""

    def __init__(self, kind: str, text: str) -> None:
        self.kind = kind
        self.text = text

    def __repr__(self) -> str:
        return f"Foreign({self.kind!r}, {self.text!r})"


# -- running a submission -------------------------------------------------------------------


def describe_error(error: BaseException, path: str) -> dict[str, str]:
    """The exception's type and message, and where in the submission it was raised."""
    where = ""
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if os.path.abspath(frame.filename) == path:
            where = f"line {frame.lineno}" + (f": {frame.line.strip()}" if frame.line else "")
            break
    if isinstance(error, SyntaxError) and error.lineno and not where:
        where = f"line {error.lineno}" + (f": {error.text.strip()}" if error.text else "")
    message = str(error) if not isinstance(error, SyntaxError) else (error.msg or "")
    return {"type": type(error).__name__, "message": message[:500], "where": where[:300]}


def load(path: str, function: str) -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("submission", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["submission"] = module
    spec.loader.exec_module(module)
    found = getattr(module, function, None)
    if found is None:
        raise NameError(f"the file defines no function named {function!r}")
    if not callable(found):
        raise TypeError(
            f"{function!r} is not a function but a value of type {type(found).__name__}"
        )
    return found


def call(fn: Any, args: list[Any], np: Any, path: str) -> dict[str, Any]:
    """One test: the encoded return value or error, and the first warnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            record: dict[str, Any] = {"value": encode(fn(*args), np)}
        except BaseException as error:  # SystemExit too: it fails one test, not the run
            if isinstance(error, KeyboardInterrupt):
                raise
            record = {"error": describe_error(error, path)}
    record["warnings"] = [
        f"{w.category.__name__}: {w.message}"
        + (f" (line {w.lineno})" if os.path.abspath(w.filename) == path else "")
        for w in caught[:MAX_WARNINGS]
    ]
    return record


def limit_resources(memory: int | None, cpu: int | None, fsize: int | None) -> None:
    """Address space, CPU seconds and the size of any file written, where `resource` exists."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows has no resource module
        return
    limits = (
        (resource.RLIMIT_AS, memory),
        (resource.RLIMIT_CPU, cpu),
        (resource.RLIMIT_FSIZE, fsize),
    )
    for kind, amount in limits:
        if amount:
            # A platform may refuse a limit; the time limit still holds.
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(kind, (amount, amount))


def main(argv: list[str]) -> int:
    payload_path, results_path = argv[1], argv[2]
    with open(payload_path, encoding="utf-8") as stream:
        payload = json.load(stream)
    limit_resources(payload.get("memory"), payload.get("cpu"), payload.get("fsize"))
    import numpy as np

    path = os.path.abspath(payload["path"])
    with open(results_path, "w", encoding="utf-8") as results:

        def emit(record: dict[str, Any]) -> None:
            results.write(json.dumps(record) + "\n")
            results.flush()

        try:
            fn = load(path, payload["function"])
        except BaseException as error:  # whatever the file raises or exits with at import
            emit({"load_error": describe_error(error, path)})
            return 0
        emit({"loaded": True})
        for index, encoded in enumerate(payload["cases"]):
            args = [decode_argument(item, np) for item in encoded]
            emit({"case": index, **call(fn, args, np, path)})
        emit({"done": True})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
