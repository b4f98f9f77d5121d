"""`drill due` prints its table as plain text, laid out as the borderless rich Table it
replaced (kept here as the reference) would print it."""

from __future__ import annotations

import contextlib
import io
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.table import Table
from rich.text import Text
from typer.testing import CliRunner

from drill.cli import app
from drill.review.queue import DueCounts
from drill.ui.due_view import HEADERS, due_table, next_due_text

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def rich_reference(rows: dict[str, DueCounts], total: DueCounts) -> str:
    table = Table(box=None, pad_edge=False)
    table.add_column(HEADERS[0])
    for name in HEADERS[1:]:
        table.add_column(name, justify="right")
    for deck_id, c in sorted(rows.items()):
        table.add_row(deck_id, str(c.new), str(c.learning), str(c.review), str(c.later_today))
    table.add_section()
    t = total
    table.add_row(
        Text("total", style="bold"), str(t.new), str(t.learning), str(t.review), str(t.later_today)
    )
    out = io.StringIO()
    console = Console(file=out, width=80, highlight=False)
    console.print(table)
    console.print(next_due_text(total.total, total.next_due, NOW))
    return out.getvalue()


counts = st.builds(
    DueCounts,
    new=st.integers(0, 10**5),
    learning=st.integers(0, 10**5),
    review=st.integers(0, 10**5),
    later_today=st.integers(0, 999),
    next_due=st.none() | st.just(NOW + timedelta(hours=3)),
)
deck_ids = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,30}", fullmatch=True)


@settings(max_examples=60, deadline=None)
@given(rows=st.dictionaries(deck_ids, counts, max_size=6), total=counts)
def test_the_table_is_laid_out_as_the_rich_table_was(rows, total):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        due_table(rows, total, NOW)
    assert out.getvalue() == rich_reference(rows, total)


def test_headers_and_total_are_bold_where_colour_is_on():
    lines = CliRunner().invoke(app, ["due", "intro"], color=True).output.splitlines()
    bold = "\x1b[1m{}\x1b[0m".format
    assert lines[0] == "  ".join(
        [bold("deck") + " ", bold("new"), bold("learning"), bold("review"), bold("later today")]
    )
    assert lines[1] == "intro   20         0       0            0"
    assert lines[2] == bold("total") + "   20         0       0            0"


def test_drill_due_prints_the_plain_table():
    result = CliRunner().invoke(app, ["due", "intro"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "deck   new  learning  review  later today"
    assert "\x1b[" not in result.output
