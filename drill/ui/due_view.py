"""What `drill due` prints: due cards per deck, and when the next card is due.

Plain text on purpose. `drill due` is the command people run every morning, and importing
rich's console and table code alone costs more than the rest of the command does
(benchmarks/README.md). The layout is the one a borderless rich Table gave it: columns
two spaces apart, deck ids on the left, counts on the right, headers and "total" in bold
on a terminal (typer.echo drops the bold when the output is not a terminal).
"""

from __future__ import annotations

import shutil
import sys
import textwrap
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import typer

from drill.review.queue import DueCounts, Tomorrow
from drill.review.scheduler import format_interval

if TYPE_CHECKING:  # the planning module is loaded only while an interview date is set
    from drill.review.planning import Readiness

HEADERS = ("deck", "new", "learning", "review", "later today")
SHORT_HEADERS = ("deck", "new", "learn", "review", "later")  # for a narrow terminal
_GAP = "  "


def due_table(
    rows: Mapping[str, DueCounts],
    total: DueCounts,
    now: datetime,
    notes: Sequence[str] = (),
) -> None:
    """The table, when the next card is due, then `notes` (tomorrow, an interview date)."""
    body = [(deck_id, *_counts(counts)) for deck_id, counts in sorted(rows.items())]
    # On a terminal the table fits its width; piped, a deck is one line for scripts.
    width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None
    for line in table_lines(HEADERS, body, ("total", *_counts(total)), width):
        typer.echo(line)
    # The new-card allowance is per day, not per deck: the total is what study will show.
    for text in (next_due_text(total.total, total.next_due, now), *notes):
        typer.echo(textwrap.fill(text, width, break_long_words=False) if width else text)


def waiting_text(count: int, limit: str) -> str:
    """New cards a daily limit holds back: "40 new cards wait for tomorrow (new_per_day = 20)"."""
    plural = count != 1
    return f"{count} new card{'s' * plural} wait{'s' * (not plural)} for tomorrow ({limit})."


def tomorrow_text(tomorrow: Tomorrow) -> str:
    if not tomorrow.total:
        return "Tomorrow: nothing due yet."
    return (
        f"Tomorrow: {tomorrow.total} card{'s' * (tomorrow.total != 1)} "
        f"({tomorrow.reviews} to review, {tomorrow.new} new)."
    )


def readiness_text(readiness: Readiness) -> str:
    """Days left to the interview date and the predicted recall then, weakest deck named."""
    left = readiness.days_left
    if left == 0:
        return f"Interview today ({readiness.day:%a %d %b %Y}). Good luck!"
    if left < 0:
        return (
            f"The interview date {readiness.day:%a %d %b %Y} has passed: "
            "`drill plan --clear` forgets it."
        )
    text = (
        f"Interview on {readiness.day:%a %d %b %Y}: {left} day{'s' * (left != 1)} left; "
        f"predicted recall then {readiness.recall:.0%}"
    )
    if len(readiness.decks) > 1:
        weakest = readiness.decks[0]
        text += f" (weakest deck: {weakest.name} {weakest.recall:.0%})"
    return text + ". `drill plan` shows what to do each day."


def table_lines(
    headers: Sequence[str],
    body: Sequence[Sequence[str]],
    total: Sequence[str],
    width: int | None = None,
) -> list[str]:
    """Aligned rows, the first column to the left and the others to the right; the headers
    and the total's label in bold.

    Wider than `width`, the headers shorten (SHORT_HEADERS, when they are HEADERS), and a
    deck id too long for what is left goes on a line of its own above its counts.
    """
    rows = [headers, *body, total]
    widths = [max(len(row[column]) for row in rows) for column in range(len(headers))]
    if width is not None and _width(widths) > width:
        if tuple(headers) == HEADERS:
            headers = SHORT_HEADERS
            rows = [headers, *body, total]
            widths = [max(len(row[column]) for row in rows) for column in range(len(headers))]
        room = width - _width([0, *widths[1:]])
        widths[0] = max(len(headers[0]), len(total[0]), min(widths[0], room))
    lines = [_line(headers, widths, bold=len(headers))]
    for row in body:
        if len(row[0]) > widths[0]:
            lines.append(row[0])
            row = ("", *row[1:])
        lines.append(_line(row, widths))
    return [*lines, _line(total, widths, bold=1)]


def _width(widths: Sequence[int]) -> int:
    return sum(widths) + len(_GAP) * (len(widths) - 1)


def _line(cells: Sequence[str], widths: Sequence[int], bold: int = 0) -> str:
    """One row; its first `bold` cells in bold (only the text, not the padding)."""
    parts = []
    for column, (cell, width) in enumerate(zip(cells, widths, strict=True)):
        pad = " " * (width - len(cell))
        text = typer.style(cell, bold=True) if column < bold else cell
        parts.append(text + pad if column == 0 else pad + text)
    return _GAP.join(parts)


def next_due_text(remaining: int, next_due: datetime | None, now: datetime) -> str:
    if remaining:
        return f"{remaining} card{'s' * (remaining != 1)} still due today."
    if next_due is None:
        return "No cards scheduled."
    local = next_due.astimezone()
    when = local.strftime("%H:%M") if next_due - now < timedelta(hours=20) else f"{local:%Y-%m-%d}"
    return f"Next card due in {format_interval(next_due - now)} (at {when})."


def _counts(counts: DueCounts) -> tuple[str, str, str, str]:
    return str(counts.new), str(counts.learning), str(counts.review), str(counts.later_today)
