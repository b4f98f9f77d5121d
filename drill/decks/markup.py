"""The markup of card text beyond Markdown: where math is, and where code is.

Card text is Markdown, with math written `$…$` (inline) or `$$…$$` (display), as in
pandoc and on GitHub. Each output shows math its own way (Unicode in the terminal,
MathJax in Anki, kept as written in Markdown), so every output first splits the text
into segments here: plain Markdown, code (where `$` and `<` mean themselves), and math.

The rules keep prices and shell variables out of math: an inline `$` opens only when
the next character is not a space, closes only after a character that is not a space
and when no digit follows, and `\\$` is a literal dollar. Math never crosses a blank line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    TEXT = "text"
    CODE = "code"  # a code span or a fenced code block, fences included
    MATH = "math"


@dataclass(frozen=True, slots=True)
class Segment:
    kind: Kind
    text: str  # as written; for math, without the dollars
    start: int  # offsets in the whole text, dollars and fences included
    end: int
    display: bool = False  # math written $$…$$


_FENCE = re.compile(r"^[ ]{0,3}(`{3,}|~{3,})", re.MULTILINE)
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def segments(text: str) -> list[Segment]:
    """The text cut into plain, code and math segments, in order, covering all of it."""
    out: list[Segment] = []
    plain_start = 0
    for segment in _special(text):
        if segment.start > plain_start:
            out.append(
                Segment(Kind.TEXT, text[plain_start : segment.start], plain_start, segment.start)
            )
        out.append(segment)
        plain_start = segment.end
    if plain_start < len(text):
        out.append(Segment(Kind.TEXT, text[plain_start:], plain_start, len(text)))
    return out


def math_spans(text: str) -> list[Segment]:
    """Only the math segments."""
    return [segment for segment in _special(text) if segment.kind is Kind.MATH]


def has_math(text: str) -> bool:
    return "$" in text and bool(math_spans(text))


def map_segments(
    text: str,
    *,
    math: Callable[[Segment], str] | None = None,
    plain: Callable[[str], str] | None = None,
    code: Callable[[str], str] | None = None,
) -> str:
    """The text with each segment replaced by what its function returns (kept without one).

    `math` receives the Segment (to know inline from display); `plain` and `code` the text.
    """
    parts = []
    for segment in segments(text):
        if segment.kind is Kind.MATH:
            parts.append(math(segment) if math else text[segment.start : segment.end])
        elif segment.kind is Kind.CODE:
            parts.append(code(segment.text) if code else segment.text)
        else:
            parts.append(plain(segment.text) if plain else segment.text)
    return "".join(parts)


def _special(text: str) -> Iterator[Segment]:
    """Code and math segments, in order. One left-to-right scan: a fence or backtick opens
    code (in which nothing else counts), a dollar may open math."""
    fences = {match.start(): match for match in _FENCE.finditer(text)}
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if i in fences and (i == 0 or text[i - 1] == "\n"):
            end = _fence_end(text, fences[i])
            yield Segment(Kind.CODE, text[i:end], i, end)
            i = end
        elif char == "\\":
            i += 2  # an escaped character, `\$` above all, is never markup
        elif char == "`":
            run = _run(text, i, "`")
            close = _closing_backticks(text, i + run, run)
            if close < 0:
                i += run  # an unmatched run is literal backticks
                continue
            yield Segment(Kind.CODE, text[i : close + run], i, close + run)
            i = close + run
        elif char == "$":
            segment = _math(text, i)
            if segment is None:
                i += _run(text, i, "$")
                continue
            yield segment
            i = segment.end
        else:
            i += 1


def _run(text: str, start: int, char: str) -> int:
    end = start
    while end < len(text) and text[end] == char:
        end += 1
    return end - start


def _closing_backticks(text: str, start: int, run: int) -> int:
    i = start
    while True:
        i = text.find("`" * run, i)
        if i < 0:
            return -1
        if _run(text, i, "`") == run:
            return i
        i += _run(text, i, "`")


def _fence_end(text: str, opening: re.Match[str]) -> int:
    """Where a fenced block ends: after its closing fence line, or at the end of the text."""
    fence = opening.group(1)
    line_end = text.find("\n", opening.end())
    if line_end < 0:
        return len(text)
    closing = re.compile(rf"^[ ]{{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", re.MULTILINE)
    match = closing.search(text, line_end + 1)
    return len(text) if match is None else match.end()


def _math(text: str, start: int) -> Segment | None:
    if text.startswith("$$", start):
        close = text.find("$$", start + 2)
        body = text[start + 2 : close] if close >= 0 else ""
        if close < 0 or not body.strip() or _BLANK_LINE.search(body):
            return None
        return Segment(Kind.MATH, body, start, close + 2, display=True)
    if start + 1 >= len(text) or text[start + 1].isspace():
        return None
    i = start + 1
    while True:
        close = _unescaped(text, "$", i)
        if close < 0:
            return None
        body = text[start + 1 : close]
        if _BLANK_LINE.search(body):
            return None
        followed_by_digit = close + 1 < len(text) and text[close + 1].isdigit()
        if not text[close - 1].isspace() and not followed_by_digit:
            return Segment(Kind.MATH, body, start, close + 1)
        i = close + 1


def _unescaped(text: str, char: str, start: int) -> int:
    """The next `char` at or after `start` that no backslash escapes, or -1."""
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == char:
            return i
        i += 1
    return -1


# What can make text more than paragraphs to CommonMark (with tables and strikethrough) or
# to HTML: its punctuation, control characters, and whitespace but the space and newline
# (the second line: every other character str.isspace() accepts, as a test checks).
_NOT_PLAIN = re.compile(
    r"[\\`*_\[\]<>!&|~#\x00-\x08\x0b-\x1f\x7f-\x9f"
    r"\t\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
)


# The ASCII characters the rule lets through. Most answers are ASCII: deleting these from
# its bytes (bytes.translate) leaves nothing, in a third of the regex's time.
_PLAIN_ASCII = bytes(c for c in range(128) if not _NOT_PLAIN.match(chr(c)))


def plain_paragraphs(text: str) -> list[str] | None:
    """The paragraphs of text that can only be paragraphs of words, as written (their lines
    joined by newlines); None for any other text. Every line starts with a letter (no list,
    heading, quote, fence or indented code can start there) and ends without a space (no
    hard break), and none of the characters above appears. Such text needs no Markdown
    parser: outputs show it directly (tests compare them with the parser's output)."""
    if text.encode().translate(None, _PLAIN_ASCII) if text.isascii() else _NOT_PLAIN.search(text):
        return None
    paragraphs = text.strip("\n").split("\n\n")
    for paragraph in paragraphs:
        for line in paragraph.split("\n"):
            if not line or not line[0].isalpha() or line[-1] == " ":
                return None
    return paragraphs
