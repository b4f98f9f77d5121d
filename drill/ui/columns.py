"""Plain-text columns that fit a width: the widest cells wrap onto more lines.

For listings (`drill decks`) that scripts read too: without a width (output not to a
terminal) every row stays on one line, as before; on a terminal the columns that may wrap
shrink, widest first, until the table fits, and their cells wrap at spaces (or `/` in a
path). No rich here, so a listing costs no more than the text it prints.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

GAP = "  "
_BREAKS = re.compile(r"(?<=[ /])")  # a cell may break after a space or a slash


def column_lines(
    rows: Sequence[Sequence[str]],
    width: int | None = None,
    wrap: Sequence[int] = (),
    right: Sequence[int] = (),
) -> list[str]:
    """`rows` (the first is the header) as aligned lines; columns in `right` align right.

    With a `width`, the columns in `wrap` give up room (the widest first, down to their
    longest word) until a line fits, and their cells continue on the next lines.
    """
    columns = len(rows[0])
    widths = [max(len(row[i]) for row in rows) for i in range(columns)]
    if width is not None:
        # a column gives up room down to its longest word (8 at least): words stay whole
        floors = {i: max(8, *(len(w) for row in rows for w in _BREAKS.split(row[i]))) for i in wrap}
        _shrink(widths, width - len(GAP) * (columns - 1), floors)
    lines = []
    for row in rows:
        cells = [_wrap(cell, widths[i]) if i in wrap else [cell] for i, cell in enumerate(row)]
        for depth in range(max(map(len, cells))):
            parts = []
            for i, cell in enumerate(cells):
                text = cell[depth] if depth < len(cell) else ""
                parts.append(text.rjust(widths[i]) if i in right else text.ljust(widths[i]))
            lines.append(GAP.join(parts).rstrip())
    return lines


def _shrink(widths: list[int], room: int, floors: dict[int, int]) -> None:
    while sum(widths) > room:
        shrinkable = [i for i, floor in floors.items() if widths[i] > floor]
        if not shrinkable:
            return  # as narrow as it sensibly gets: the terminal wraps the rest
        widths[max(shrinkable, key=lambda i: widths[i])] -= 1


def _wrap(text: str, width: int) -> list[str]:
    """Lines of at most `width` characters, broken after spaces or slashes where possible."""
    lines: list[str] = []
    line = ""
    for word in _BREAKS.split(text):
        while len(word) > width:  # a word longer than a line is cut
            if line:
                lines.append(line.rstrip())
                line = ""
            lines.append(word[:width])
            word = word[width:]
        if len((line + word).rstrip()) > width:
            lines.append(line.rstrip())
            line = ""
        line += word
    lines.append(line.rstrip())
    return [text for text in lines if text] or [""]
