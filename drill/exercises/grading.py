"""Parse and check typed numeric answers.

A typed answer is a number, a vector or a matrix. Numbers may be integers, decimals,
scientific notation (1e-3, 1.2E+02) or fractions (3/4, -1/2), with a leading + or the
Unicode minus sign. Vectors are "[0.1, -0.2]", "0.1 -0.2" or "0.1, -0.2"; matrix rows are
split by ";" ("1 2; 3 4") or written as nested brackets ("[[1, 2], [3, 4]]").

Text that cannot be read raises ParseError, whose message is a hint: the caller asks
again instead of grading the answer wrong; so does an answer of another shape than the
answer's (WrongShape, a ParseError). Nothing else is ever raised for a string.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from drill.errors import DrillError
from drill.exercises.base import Answer, Exercise, Tolerance

MAX_CHARS = 4000  # a 20×20 matrix of 8-character numbers fits; anything longer is a paste slip

_EXAMPLES = "e.g. 0.25, -1/2, 1e-3, [0.1, -0.2] or 1 2; 3 4"

# ASCII digits only: `\d` would also accept digits of other scripts that float() reads.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_ROW = re.compile(r"\[([^\[\]]*)\]")
_ROW_GLUE = re.compile(r"[\s,;]*")
# The Unicode minus (and dashes that look like it) read as "-"; parentheses as brackets.
_NORMALIZE = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2012": "-", "(": "[", ")": "]"})

Parsed = float | list[float] | list[list[float]]


class ParseError(DrillError):
    """The typed answer is not a number, vector or matrix drill can read."""


class WrongShape(ParseError):
    """The typed answer is read, but has another shape than the answer (a matrix for a
    number): a slip of the form, asked again rather than graded wrong."""


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking one typed answer against an exercise."""

    correct: bool
    value: Parsed
    truth: Answer
    slip: str | None = None  # a likely slip that explains a wrong answer
    note: str | None = None  # why a wrong answer is wrong when it is not about the numbers

    @property
    def truth_text(self) -> str:
        return format_value(self.truth)


# --- parsing -----------------------------------------------------------------------------


def parse(typed: str) -> Parsed:
    """Read a typed answer as a float, a list of floats, or a list of equal-length rows."""
    if not isinstance(typed, str):
        raise TypeError(f"a typed answer must be a str, not {type(typed).__name__}")
    if len(typed) > MAX_CHARS:
        raise ParseError(f"that answer is {len(typed)} characters long; the limit is {MAX_CHARS}")
    text = typed.translate(_NORMALIZE).strip()
    if not text:
        raise ParseError(f"type a number, vector or matrix ({_EXAMPLES})")
    text = re.sub(r"\s*/\s*", "/", text)  # "1 / 2" is one fraction, not three tokens
    inner = _inside_outer_brackets(text)
    body = text if inner is None else inner
    if "[" in body or "]" in body:
        return _matrix([_flat(row) for row in _bracketed_rows(body)])
    if ";" in body:
        rows = body.split(";")
        if len(rows) > 1 and not rows[-1].strip():
            rows.pop()  # a trailing ";" is harmless
        return _matrix([_flat(row) for row in rows])
    values = _flat(body)
    return values[0] if len(values) == 1 and inner is None else values


def _inside_outer_brackets(text: str) -> str | None:
    """The text inside one pair of brackets that encloses the whole answer, if there is one."""
    if text.startswith("[") and text.endswith("]"):
        inner = text[1:-1].strip()
        if _balanced(inner):
            return inner
    return None


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def _bracketed_rows(text: str) -> list[str]:
    """Split "[1, 2], [3, 4]" into its rows; only commas, ";" or spaces may sit between."""
    rows: list[str] = []
    position = 0
    for match in _ROW.finditer(text):
        if not _ROW_GLUE.fullmatch(text, position, match.start()):
            break
        rows.append(match.group(1))
        position = match.end()
    if not rows or not _ROW_GLUE.fullmatch(text, position):
        raise ParseError(f"cannot read the brackets in {_shorten(text)!r}; write {_EXAMPLES}")
    return rows


def _flat(text: str) -> list[float]:
    """A run of numbers separated by commas and/or spaces."""
    text = text.strip()
    if not text:
        raise ParseError(f"an empty row or vector; write {_EXAMPLES}")
    parts = re.split(r"\s*,\s*|\s+", text)
    return [_number(part) for part in parts]


def _number(token: str) -> float:
    if not token:
        raise ParseError(f"two separators in a row leave an empty entry; write {_EXAMPLES}")
    if "/" in token:
        numerator, _, denominator = token.partition("/")
        top, bottom = _decimal(numerator, token), _decimal(denominator, token)
        if bottom == 0:
            raise ParseError(f"{_shorten(token)!r} divides by zero")
        value = top / bottom
    else:
        value = _decimal(token, token)
    if not math.isfinite(value):
        raise ParseError(f"{_shorten(token)!r} is too large to be an answer")
    return value + 0.0  # turns -0.0 into 0.0


def _decimal(text: str, token: str) -> float:
    if not _NUMBER.fullmatch(text):
        raise ParseError(f"cannot read {_shorten(token)!r} as a number; write {_EXAMPLES}")
    return float(text)


def _matrix(rows: list[list[float]]) -> list[list[float]]:
    lengths = sorted({len(row) for row in rows})
    if len(lengths) > 1:
        raise ParseError(f"the rows have different lengths ({', '.join(map(str, lengths))})")
    return rows


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- checking ----------------------------------------------------------------------------


def check(typed: str, exercise: Exercise) -> Verdict:
    """Grade a typed answer; raises ParseError (and nothing is graded) if it cannot be read,
    WrongShape if it is not the shape of the answer."""
    value = parse(typed)
    mine, truth = _squeeze(value), _squeeze(_plain(exercise.answer))
    if shape_of(mine) != shape_of(truth):
        raise WrongShape(
            f"the answer is {_shape_text(shape_of(truth))}; yours is {_shape_text(shape_of(mine))}"
        )
    if close(mine, truth, exercise.tolerance):
        return Verdict(True, value, exercise.answer)
    return Verdict(False, value, exercise.answer, slip=likely_slip(value, exercise))


def likely_slip(value: Parsed, exercise: Exercise) -> str | None:
    """Name the slip that best explains a wrong answer, or None when none fits."""
    truth = _plain(exercise.answer)
    if _matches(value, truth, exercise.tolerance):
        return None
    for description, slipped in exercise.slips.items():
        if _matches(value, _plain(slipped), exercise.tolerance):
            return description
    flipped = _negate(truth)
    if flipped != truth and _matches(value, flipped, exercise.tolerance):
        return "sign flipped"
    return None


def close(value: Any, truth: Any, tolerance: Tolerance) -> bool:
    """|x − t| ≤ max(abs, rel·|t|) elementwise; exact equality for integer answers."""
    if isinstance(truth, list) or isinstance(value, list):
        return (
            isinstance(truth, list)
            and isinstance(value, list)
            and len(value) == len(truth)
            and all(close(v, t, tolerance) for v, t in zip(value, truth, strict=True))
        )
    if tolerance.exact:
        return value == truth
    bound = max(tolerance.abs, tolerance.rel * abs(truth))
    # The slack keeps answers typed exactly on the bound (0.99 for 1 at 1 %) correct
    # despite binary rounding of the decimal digits.
    return abs(value - truth) <= bound * (1 + 1e-9)


def _matches(value: Any, truth: Any, tolerance: Tolerance) -> bool:
    value, truth = _squeeze(value), _squeeze(truth)
    return shape_of(value) == shape_of(truth) and close(value, truth, tolerance)


# --- values ------------------------------------------------------------------------------


def shape_of(value: Any) -> tuple[int, ...]:
    """The shape of a nested list (a scalar has shape ())."""
    if isinstance(value, list):
        inner = shape_of(value[0]) if value else ()
        return (len(value), *inner)
    return ()


def format_value(value: Any) -> str:
    """A number, vector or matrix to 6 significant figures, in a form `parse` reads back."""
    value = _plain(value)
    if isinstance(value, list):
        return "[" + ", ".join(format_value(item) for item in value) + "]"
    if isinstance(value, int):
        return str(value)
    text = f"{value + 0.0:.6g}"
    return "0" if text == "-0" else text


def _plain(value: Any) -> Any:
    """Numpy arrays and scalars become nested lists of Python numbers."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_plain(item) for item in value]
    if isinstance(value, bool):
        return int(value)
    return value


def _squeeze(value: Any) -> Any:
    """Drop axes of length 1: "0.5", "[0.5]" and a column "1; 2" mean what they say."""
    shape = tuple(length for length in shape_of(value) if length != 1)
    return _reshape(list(_flatten(value)), shape)


def _flatten(value: Any) -> Iterator[Any]:
    if isinstance(value, list):
        for item in value:
            yield from _flatten(item)
    else:
        yield value


def _reshape(flat: list[Any], shape: tuple[int, ...]) -> Any:
    if not shape:
        return flat[0]
    if len(shape) == 1:
        return flat
    step = math.prod(shape[1:])
    return [_reshape(flat[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])]


def _negate(value: Any) -> Any:
    if isinstance(value, list):
        return [_negate(item) for item in value]
    return -value + 0 if isinstance(value, int) else -value + 0.0


def _shape_text(shape: tuple[int, ...]) -> str:
    if not shape:
        return "a single number"
    if len(shape) == 1:
        return f"a vector of {shape[0]} numbers"
    return "a " + "×".join(map(str, shape)) + " array"
