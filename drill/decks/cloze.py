"""Cloze deletions, written as Anki writes them: `{{c1::answer}}` or `{{c1::answer::hint}}`.

Every deletion number is its own scheduled card (`deck/card#c1`); deletions sharing a
number are hidden together. The closing `}}` and the hint's `::` are looked for outside
math, so `{{c1::$\\frac{1}{\\sqrt{d}}$}}` holds the whole formula.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from drill.decks.markup import math_spans

# Anything that looks like the start of a deletion, well formed or not, so a near miss
# (`{{c1:x}}`, `{{c::x}}`, `{{C1::x}}`) is reported instead of shown as literal braces.
_OPENING = re.compile(r"\{\{\s*([cC])\s*(\d*)\s*(:{0,2})")


@dataclass(frozen=True, slots=True)
class Deletion:
    number: int
    answer: str
    hint: str | None
    start: int  # offsets of the whole `{{c…}}` in the text
    end: int


class ClozeError(ValueError):
    """A malformed deletion; `offset` is where it starts in the text."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def parse(text: str) -> list[Deletion]:
    """Every deletion in order; raises the first ClozeError."""
    deletions, errors = _scan(text)
    if errors:
        raise errors[0]
    return deletions


def problems(text: str) -> list[ClozeError]:
    """Every malformed deletion (for `drill lint`)."""
    return _scan(text)[1]


def numbers(text: str) -> tuple[int, ...]:
    """The deletion numbers used, ascending, each once; malformed deletions are ignored."""
    return tuple(sorted({deletion.number for deletion in _scan(text)[0]}))


def render(
    text: str,
    active: int | None,
    *,
    hidden: Callable[[Deletion], str],
    shown: Callable[[Deletion], str] = lambda deletion: deletion.answer,
) -> str:
    """The text with deletion `active` (every one when None) made by `hidden` and the
    others by `shown` (their answer, by default)."""
    parts = []
    position = 0
    for deletion in _scan(text)[0]:
        parts.append(text[position : deletion.start])
        chosen = active is None or deletion.number == active
        parts.append(hidden(deletion) if chosen else shown(deletion))
        position = deletion.end
    parts.append(text[position:])
    return "".join(parts)


def blank(deletion: Deletion) -> str:
    """How a hidden deletion reads: `[…]`, or its hint in brackets."""
    return f"[{deletion.hint}]" if deletion.hint else "[…]"


def _scan(text: str) -> tuple[list[Deletion], list[ClozeError]]:
    deletions: list[Deletion] = []
    errors: list[ClozeError] = []
    if "{{" not in text:
        return deletions, errors
    math = [(span.start, span.end) for span in math_spans(text)]
    position = 0
    while (opening := _OPENING.search(text, position)) is not None:
        start = opening.start()
        if _inside(math, start) or not (opening.group(2) or opening.group(3)):
            position = start + 2  # in math, or `{{c` of some other word (`{{code}}`)
            continue
        problem = _opening_problem(opening)
        if problem:
            errors.append(ClozeError(problem, start))
            position = opening.end()
            continue
        content_start = opening.end()
        close = _outside_math(text, "}}", content_start, math)
        if close < 0:
            errors.append(ClozeError(f"{_shown(opening)} is never closed with '}}}}'", start))
            break
        content = text[content_start:close]
        position = close + 2
        number = int(opening.group(2))
        if _OPENING.search(content) is not None:
            errors.append(ClozeError("deletions cannot be nested in one another", start))
            continue
        separator = _outside_math(content, "::", 0, _shifted(math, content_start))
        answer, hint = (
            (content[:separator], content[separator + 2 :]) if separator >= 0 else (content, None)
        )
        if not answer.strip():
            errors.append(ClozeError(f"deletion c{number} is empty", start))
            continue
        hint = hint.strip() if hint is not None and hint.strip() else None
        deletions.append(Deletion(number, answer, hint, start, position))
    return deletions, errors


def _opening_problem(opening: re.Match[str]) -> str | None:
    letter, digits, colons = opening.groups()
    shown = _shown(opening)
    if opening.group(0) != f"{{{{c{digits}{colons}" or letter != "c":
        return f"write a deletion as {{{{c1::answer}}}}, not {shown!r}"
    if not digits:
        return f"a deletion needs a number, as in {{{{c1::…}}}}, not {shown!r}"
    if int(digits) < 1:
        return f"deletion numbers start at 1, not {shown!r}"
    if colons != "::":
        return f"a deletion's number is followed by two colons, as in {{{{c1::…}}}}, not {shown!r}"
    return None


def _shown(opening: re.Match[str]) -> str:
    return opening.group(0)


def _inside(spans: list[tuple[int, int]], offset: int) -> bool:
    return any(start <= offset < end for start, end in spans)


def _shifted(spans: list[tuple[int, int]], by: int) -> list[tuple[int, int]]:
    return [(start - by, end - by) for start, end in spans]


def _outside_math(text: str, needle: str, start: int, math: list[tuple[int, int]]) -> int:
    """The first `needle` at or after `start` that is not inside a math span, or -1."""
    i = start
    while (found := text.find(needle, i)) >= 0:
        inside = next((end for begin, end in math if begin <= found < end), None)
        if inside is None:
            return found
        i = inside
    return -1
