"""Typed answers to basic cards (`type_answer:`), compared as a person would compare them.

Both sides are normalised before they are compared: Unicode compatibility forms (NFKC),
case, spacing and punctuation do not count, so "Cross-entropy" matches "cross entropy".
Numbers are compared as numbers: "0.50" matches "1/2" and ".5", "1,000" matches "1000",
and a canonical answer written with decimals asks for that precision: "0.693" accepts
anything that rounds to it ("0.6931"), not "0.69". Symbols (√, ∑, +, …) count.

The diff shows the typed text against the canonical answer character by character,
ignoring case, for the study screen to colour.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from fractions import Fraction

MAX_CHARS = 500  # a typed answer is short; a longer one is a paste slip, compared as text

# A number: optional sign (not after a letter or digit: `x-1` is x and 1), digits with
# optional thousands commas, decimals, exponent, and a fraction bar.
_NUMBER = (
    r"(?<![\w.])[-+]?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?"
    r"(?:/(?:\d+\.?\d*|\.\d+))?"
)
_TOKEN = re.compile(rf"(?P<number>{_NUMBER})|(?P<word>\w+)|(?P<other>\S)")
_DASHES = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2012": "-", "\u2010": "-"})


@dataclass(frozen=True)
class Piece:
    """A run of characters of one side of the diff; `same` when the other side has it."""

    text: str
    same: bool


@dataclass(frozen=True)
class TypedVerdict:
    correct: bool
    matched: str | None  # the canonical or accepted answer the typed one matched
    typed: tuple[Piece, ...]  # what was typed, wrong characters marked
    expected: tuple[Piece, ...]  # the canonical answer, missing characters marked

    @property
    def exact(self) -> bool:
        """Typed character for character (ignoring case): no diff worth showing."""
        return all(piece.same for piece in (*self.typed, *self.expected))


Token = tuple[str, object]  # ("word", "relu") or ("number", Fraction(1, 2) and its decimals)


def tokens(text: str) -> tuple[Token, ...]:
    """The parts of an answer that count: words, numbers and symbols, normalised."""
    text = unicodedata.normalize("NFKC", text[:MAX_CHARS]).translate(_DASHES).casefold()
    out: list[Token] = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        value = match.group()
        if kind == "number":
            out.append(("number", _number(value)))
        elif kind == "word":
            out.append(("word", value))
        elif unicodedata.category(value).startswith("S"):  # symbols count, punctuation not
            out.append(("symbol", value))
    return tuple(out)


def check_typed(typed: str, canonical: str, accept: Sequence[str] = ()) -> TypedVerdict:
    """Whether `typed` matches the canonical answer or one of `accept`, with the diff
    against the canonical answer."""
    typed_tokens = tokens(typed)
    matched = next(
        (answer for answer in (canonical, *accept) if _same(typed_tokens, tokens(answer))), None
    )
    typed_pieces, expected_pieces = diff(typed.strip(), canonical.strip())
    return TypedVerdict(matched is not None, matched, typed_pieces, expected_pieces)


def diff(typed: str, expected: str) -> tuple[tuple[Piece, ...], tuple[Piece, ...]]:
    """Both texts cut into runs the other side has (`same`) or lacks, ignoring case."""
    matcher = SequenceMatcher(None, _folded(typed), _folded(expected), autojunk=False)
    typed_pieces: list[Piece] = []
    expected_pieces: list[Piece] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        same = tag == "equal"
        if i2 > i1:
            typed_pieces.append(Piece(typed[i1:i2], same))
        if j2 > j1:
            expected_pieces.append(Piece(expected[j1:j2], same))
    return tuple(typed_pieces), tuple(expected_pieces)


def _folded(text: str) -> list[str]:
    # Character by character, so both lists keep the text's length ("ß".lower() is one).
    return [char.lower()[:1] or char for char in text]


def _number(numeral: str) -> tuple[Fraction, int | None]:
    """The value, and how many decimals were written (None: an exact integer or fraction)."""
    plain = numeral.replace(",", "")
    value = Fraction(plain.split("/")[0]) if "/" not in plain else _fraction(plain)
    mantissa = plain.split("e")[0]
    decimals = len(mantissa.split(".")[1]) if "." in mantissa and "/" not in plain else None
    if decimals is not None and "e" in plain:
        decimals -= int(plain.split("e")[1])  # 1.5e-3 is written to 4 decimals
    return value, decimals


def _fraction(plain: str) -> Fraction:
    top, bottom = plain.split("/")
    denominator = Fraction(bottom)
    return Fraction(top) / denominator if denominator else Fraction(top)


def _same(typed: tuple[Token, ...], expected: tuple[Token, ...]) -> bool:
    if len(typed) != len(expected):
        return False
    return all(_same_token(a, b) for a, b in zip(typed, expected, strict=True))


def _same_token(typed: Token, expected: Token) -> bool:
    if typed[0] != expected[0]:
        return False
    if typed[0] != "number":
        return typed[1] == expected[1]
    (value, typed_decimals), (target, decimals) = typed[1], expected[1]  # type: ignore[misc]
    if value == target:
        return True
    if decimals is not None and decimals >= 0:
        # The canonical answer's precision: whatever rounds to it is right.
        return abs(value - target) <= Fraction(1, 2 * 10**decimals)
    if decimals is None and typed_decimals is not None and typed_decimals >= 2:
        # An exact fraction (1/3) answered as a decimal: right to the decimals typed.
        return abs(value - target) <= Fraction(1, 2 * 10**typed_decimals)
    return False
