"""What `drill due` prints: due cards per deck, and when the next card is due.

Plain text on purpose. `drill due` is the command people run every morning, and importing
rich's console and table code alone costs more than the rest of the command does
(benchmarks/README.md). The layout is the one a borderless rich Table gave it: columns
two spaces apart, deck ids on the left, counts on the right, headers and "total" in bold
on a terminal (typer.echo drops the bold when the output is not a terminal).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import typer

from drill.review.queue import DueCounts
from drill.review.scheduler import format_interval

HEADERS = ("deck", "new", "learning", "review", "later today")
_GAP = "  "


def due_table(rows: Mapping[str, DueCounts], total: DueCounts, now: datetime) -> None:
    body = [(deck_id, *_counts(counts)) for deck_id, counts in sorted(rows.items())]
    for line in table_lines(HEADERS, body, ("total", *_counts(total))):
        typer.echo(line)
    # The new-card allowance is per day, not per deck: the total is what study will show.
    typer.echo(next_due_text(total.total, total.next_due, now))


def table_lines(
    headers: Sequence[str], body: Sequence[Sequence[str]], total: Sequence[str]
) -> list[str]:
    """Aligned rows, the first column to the left and the others to the right; the headers
    and the total's label in bold."""
    rows = [headers, *body, total]
    widths = [max(len(row[column]) for row in rows) for column in range(len(headers))]
    return [
        _line(headers, widths, bold=len(headers)),
        *(_line(row, widths) for row in body),
        _line(total, widths, bold=1),
    ]


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
