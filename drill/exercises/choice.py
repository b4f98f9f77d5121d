"""Multiple-choice answers: a fresh order of the choices at each review, picks by number.

Choices are shown numbered from 1 in an order drawn from the caller's `rng`, so position
teaches nothing. An answer is the numbers of the picked choices ("2", or "1 3", "1,3" or
"13" when several are right); it is right when it picks exactly the right choices.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from drill.errors import DrillError


class BadPick(DrillError):
    """The typed picks are not numbers of the choices shown; the caller asks again."""


@dataclass(frozen=True)
class ChoiceVerdict:
    correct: bool
    picked: tuple[str, ...]  # the picked choices, in the order shown
    missed: tuple[str, ...]  # right choices not picked
    wrong: tuple[str, ...]  # picked choices that are not right


def shuffled(choices: Sequence[str], rng: random.Random) -> list[str]:
    """The choices in a fresh order."""
    order = list(choices)
    rng.shuffle(order)
    return order


def parse_picks(text: str, count: int, multiple: bool) -> tuple[int, ...]:
    """The 1-based positions typed, in order and each once. Raises BadPick with a hint."""
    text = text.strip()
    if count <= 9 and re.fullmatch(r"[1-9]+", text) and (multiple or len(text) == 1):
        numbers = [int(char) for char in text]
    elif re.fullmatch(r"\d+(?:[\s,;]+\d+)*", text):
        numbers = [int(part) for part in re.split(r"[\s,;]+", text)]
    else:
        raise BadPick(_hint(count, multiple))
    if any(not 1 <= number <= count for number in numbers):
        raise BadPick(_hint(count, multiple))
    if not multiple and len(set(numbers)) > 1:
        raise BadPick(f"pick one choice, 1-{count}")
    return tuple(dict.fromkeys(numbers))


def check_picks(
    shown: Sequence[str], picks: Sequence[int], answers: Sequence[str]
) -> ChoiceVerdict:
    """The verdict on the choices at `picks` (1-based positions in `shown`)."""
    picked = tuple(shown[number - 1] for number in sorted(picks))
    right = set(answers)
    wrong = tuple(choice for choice in picked if choice not in right)
    missed = tuple(choice for choice in shown if choice in right and choice not in picked)
    return ChoiceVerdict(not wrong and not missed, picked, missed, wrong)


def _hint(count: int, multiple: bool) -> str:
    if multiple:
        return f"type the numbers of every right choice, 1-{count}, e.g. 1 3"
    return f"type the number of a choice, 1-{count}"
