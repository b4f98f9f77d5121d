"""`drill stats` in the terminal: tables, a 30-day forecast bar chart and a year heatmap."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta

from rich.console import Console
from rich.table import Table
from rich.text import Text

from drill.review.stats import WINDOWS, CardTrouble, DayCount, PassRate, Stats
from drill.ui.screen import Flow

BAR_EIGHTHS = " ▁▂▃▄▅▆▇█"
CHART_HEIGHT = 6
# Heatmap shades, least to most: colours where the terminal has them, glyphs otherwise.
HEAT_STYLES = ("grey23", "#0e4429", "#006d32", "#26a641", "#39d353")
HEAT_GLYPHS = "·░▒▓█"
WEEKDAY_LABELS = ("Mon", "", "Wed", "", "Fri", "", "")
HEATMAP_LABEL = 4  # columns of the weekday labels
MAX_ROWS = 15  # of a card list on screen; --json lists every card


def render_stats(stats: Stats, console: Console) -> None:
    console.print(_headline(stats))
    console.print()
    console.print(Text("Cards", style="bold"))
    console.print(_cards_table(stats, console.width))
    console.print()
    title = Text("True retention", style="bold")
    title.append(" (first review of a card each day; young: interval under 21 days)", "dim")
    console.print(title)
    console.print(_retention_table(stats))
    console.print()
    total = sum(day.count for day in stats.forecast)
    console.print(Text(f"Due in the next 30 days: {total}", style="bold"))
    if total:
        # two columns a day where they fit (30 days: 64 columns), else one
        console.print(forecast_chart(stats.forecast, bar_width=2 if console.width >= 64 else 1))
    console.print()
    console.print(_calendar_title(stats.calendar))
    color = console.color_system is not None
    wide = console.width >= 110
    weeks = (console.width - HEATMAP_LABEL) // (2 if wide else 1)  # as many as fit, newest
    heatmap = calendar_heatmap(stats.calendar, wide=wide, color=color, max_weeks=weeks)
    console.print(heatmap, no_wrap=True, crop=True)
    shown = (len(stats.calendar) + 6) // 7  # about: the weeks a full year takes
    cut = f"   the last {weeks} weeks" if weeks < shown else ""
    console.print(_legend(color) + Text(cut, style="dim"))
    _troubles(console, "Hardest cards (most lapses)", stats.hardest)
    if stats.leeches:
        _troubles(console, "Leeches", stats.leeches)
        console.print(
            Text("Rewrite or split a leech, then bring it back with drill unsuspend KEY.", "dim")
        )
    if stats.generators:
        console.print()
        console.print(Text("Compute exercises answered right", style="bold"))
        console.print(_generators_table(stats))


def _headline(stats: Stats) -> Text:
    minutes, seconds = divmod(round(stats.seconds_today), 60)
    spent = f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"
    line = Text(f"Today ({stats.today:%a %d %b}): ", style="bold")
    line.append(f"{_plural(stats.reviews_today, 'review')} in {spent}")
    streak = _plural(stats.streak, "day")
    if stats.streak and not stats.studied_today:
        streak += " (study today to keep it)"
    line.append(f"   Streak: {streak}")
    if stats.decks:
        line.append(f"   Decks: {', '.join(stats.decks)}", style="dim")
    if stats.interview and stats.interview.days_left > 0:
        ready = stats.interview
        line.append(
            f"\nInterview on {ready.day:%a %d %b %Y}: {_plural(ready.days_left, 'day')} left; "
            f"predicted recall then {ready.recall:.0%} (drill plan)"
        )
    return line


def _cards_table(stats: Stats, width: int = 80) -> Table | Flow:
    """A column per state; where those would not fit, the counts flow as `name n` pairs."""
    counts = stats.cards
    names = ("new", "learning", "review", "relearning", "suspended", "total", "leeches")
    values = [str(getattr(counts, name)) for name in names]
    needed = sum(max(len(name), len(value)) + 1 for name, value in zip(names, values, strict=True))
    if needed > width:
        return Flow([Text(f"{name} {value}") for name, value in zip(names, values, strict=True)])
    table = Table(box=None, pad_edge=False)
    for name in names:
        table.add_column(name, justify="right")
    table.add_row(*values)
    return table


def _retention_table(stats: Stats) -> Table:
    table = Table(box=None, pad_edge=False)
    table.add_column("")
    for name, span in WINDOWS:
        table.add_column(name if span == 1 else f"{span} days", justify="right")
    for label in ("young", "mature", "total"):
        cells = [_rate_cell(getattr(stats.retention[name], label)) for name, _ in WINDOWS]
        table.add_row(label, *cells)
    return table


def _rate_cell(rate: PassRate) -> Text:
    if rate.rate is None:
        return Text("-", style="dim")
    cell = Text(f"{rate.rate:.1%}")
    # counts in full while they are short; beyond that the size of the sample is enough
    counts = f"{rate.passed}/{rate.reviews}" if rate.reviews < 1000 else f"n={_short(rate.reviews)}"
    cell.append(f" ({counts})", style="dim")
    return cell


def _short(count: int) -> str:
    return f"{count / 1000:.1f}k" if count < 1_000_000 else f"{count / 1_000_000:.1f}M"


def forecast_chart(
    days: Sequence[DayCount], height: int = CHART_HEIGHT, bar_width: int = 2
) -> Text:
    """A bar per day, drawn with eighth blocks; any day with a card shows at least a sliver.
    `bar_width` 2 leaves a gap after each bar; 1 packs them for narrow screens."""
    peak = max((day.count for day in days), default=0)
    units = [_bar_units(day.count, peak, height * 8) for day in days]
    label_width = len(str(peak))
    chart = Text()
    for row in reversed(range(height)):
        label = str(peak) if row == height - 1 else ("0" if row == 0 else "")
        chart.append(f"{label:>{label_width}} │", style="dim")
        for unit in units:
            chart.append(BAR_EIGHTHS[min(8, max(0, unit - row * 8))], style="cyan")
            chart.append(" " * (bar_width - 1))
        chart.append("\n")
    chart.append(" " * (label_width + 2))
    chart.append(_date_axis(days, bar_width), style="dim")
    return chart


def _bar_units(count: int, peak: int, full: int) -> int:
    if not count:
        return 0
    return max(1, round(count / peak * full))


def _date_axis(days: Sequence[DayCount], bar_width: int = 2) -> str:
    """Dates under every seventh bar (`bar_width` characters per bar), never overlapping."""
    axis = [" "] * (bar_width * len(days) + 6)
    taken = -1  # the last column a label reaches
    for index in range(0, len(days), 7):
        label = "today" if index == 0 else f"{days[index].day:%b %d}"
        start = bar_width * index
        if start > taken:
            axis[start : start + len(label)] = label
            taken = start + len(label)
    return "".join(axis).rstrip()


def _calendar_title(days: Sequence[DayCount]) -> Text:
    total = sum(day.count for day in days)
    studied = sum(1 for day in days if day.count)
    best = max((day.count for day in days), default=0)
    title = Text(f"Reviews in the last year: {total}", style="bold")
    title.append(f" on {_plural(studied, 'day')}; best day {best}", style="dim")
    return title


def calendar_heatmap(
    days: Sequence[DayCount], wide: bool = False, color: bool = True, max_weeks: int | None = None
) -> Text:
    """A contribution graph: a column per week (Monday on top), a shade per day's reviews;
    only the newest `max_weeks` weeks when the screen is narrow."""
    if max_weeks is not None and days:
        last_monday = days[-1].day - timedelta(days=days[-1].day.weekday())
        first = last_monday - timedelta(weeks=max(1, max_weeks) - 1)
        days = [day for day in days if day.day >= first]
    if not days:
        return Text()
    first_monday = days[0].day - timedelta(days=days[0].day.weekday())
    weeks = (days[-1].day - first_monday).days // 7 + 1
    grid: list[list[DayCount | None]] = [[None] * weeks for _ in range(7)]
    for day in days:
        offset = (day.day - first_monday).days
        grid[offset % 7][offset // 7] = day
    peak = max(day.count for day in days)
    cell_width = 2 if wide else 1
    heatmap = Text(" " * 4)
    heatmap.append(_month_axis(days, first_monday, weeks, cell_width), style="dim")
    for weekday, row in enumerate(grid):
        heatmap.append(f"\n{WEEKDAY_LABELS[weekday]:<4}", style="dim")
        for day in row:
            if day is None:
                heatmap.append(" " * cell_width)
                continue
            level = _heat_level(day.count, peak)
            glyph = "■" if color else HEAT_GLYPHS[level]
            heatmap.append(glyph, style=HEAT_STYLES[level] if color else None)
            heatmap.append(" " * (cell_width - 1))
    return heatmap


def _heat_level(count: int, peak: int) -> int:
    """0 for no review, else 1 to 4 by quarters of the busiest day."""
    return 0 if not count else max(1, math.ceil(4 * count / peak))


def _month_axis(days: Sequence[DayCount], first_monday: date, weeks: int, cell_width: int) -> str:
    """Month names above the week in which each month begins (within the weeks' width)."""
    width = max(3, weeks * cell_width)
    axis = [" "] * width
    taken = -1  # the last column a label reaches, so labels never overlap
    for day in days:
        if day.day.day != 1:
            continue
        column = min((day.day - first_monday).days // 7 * cell_width, width - 3)
        if column > taken:
            label = f"{day.day:%b}"
            axis[column : column + 3] = label
            taken = column + 3
    return "".join(axis).rstrip()


def _legend(color: bool) -> Text:
    legend = Text("    less ", style="dim")
    for level in range(len(HEAT_STYLES)):
        if color:
            legend.append("■", style=HEAT_STYLES[level])
        else:
            legend.append(HEAT_GLYPHS[level])
    legend.append(" more", style="dim")
    return legend


def _troubles(console: Console, title: str, cards: Sequence[CardTrouble]) -> None:
    if not cards:
        return
    console.print()
    console.print(Text(title, style="bold"))
    table = Table(box=None, pad_edge=False)
    table.add_column("card")
    table.add_column("lapses", justify="right")
    table.add_column("reviews", justify="right")
    table.add_column("state")
    for card in cards[:MAX_ROWS]:
        flags = [name for name, on in (("suspended", card.suspended), ("leech", card.leech)) if on]
        state = card.state.name.lower() + (f" ({', '.join(flags)})" if flags else "")
        table.add_row(card.key, str(card.lapses), str(card.reviews), state)
    console.print(table)
    if len(cards) > MAX_ROWS:
        console.print(
            Text(f"… and {len(cards) - MAX_ROWS} more (drill stats --json lists them)", "dim")
        )


def _generators_table(stats: Stats) -> Table:
    table = Table(box=None, pad_edge=False)
    table.add_column("generator")
    table.add_column("right", justify="right")
    table.add_column("answers", justify="right")
    table.add_column("share", justify="right")
    for score in stats.generators:
        table.add_row(score.generator, str(score.correct), str(score.attempts), f"{score.rate:.0%}")
    return table


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' * (count != 1)}"
