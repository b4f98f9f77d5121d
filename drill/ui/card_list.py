"""The table of `drill list` and `drill search`: a line per card, the question trimmed so
each line fits the terminal. Plain text, like `drill due`: it is read and piped to grep."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from drill.decks.search import question_line
from drill.review.listing import CardRow
from drill.ui.math import terminal_text

HEADERS = ("id", "state", "due", "stability", "lapses", "question")
_GAP = "  "
_MIN_QUESTION = 12  # below this the question goes on regardless, and the line wraps


def table_lines(rows: Sequence[CardRow], width: int) -> list[str]:
    """The header and a line per row, each at most `width` characters when it can be."""
    cells = [(row.card.key, row.state, _due(row), _stability(row), str(row.record.lapses))
             for row in rows]  # fmt: skip
    widths = [max(len(line[column]) for line in (HEADERS[:5], *cells)) for column in range(5)]
    room = max(_MIN_QUESTION, width - sum(widths) - len(_GAP) * 5)
    lines = [_line(HEADERS[:5], widths, HEADERS[5])]
    for row, line in zip(rows, cells, strict=True):
        lines.append(_line(line, widths, trim(question(row), room)))
    return lines


def question(row: CardRow) -> str:
    """The question as the table shows it: one line, math as Unicode."""
    return terminal_text(question_line(row.card))


def trim(text: str, room: int) -> str:
    return text if len(text) <= room else text[: max(0, room - 1)].rstrip() + "…"


def _line(cells: Sequence[str], widths: Sequence[int], last: str) -> str:
    # Text columns to the left, numbers to the right, as `drill due` lines them up.
    parts = [
        cell.rjust(width) if column >= 3 else cell.ljust(width)
        for column, (cell, width) in enumerate(zip(cells, widths, strict=True))
    ]
    return _GAP.join([*parts, last]).rstrip()


def _due(row: CardRow) -> str:
    due: datetime | None = row.record.due
    if due is None or row.record.reps == 0:
        return "-"
    return due.astimezone().strftime("%Y-%m-%d %H:%M")


def _stability(row: CardRow) -> str:
    stability = row.record.stability
    return "-" if stability is None else f"{stability:.1f}d"
