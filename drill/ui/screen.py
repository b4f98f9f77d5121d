"""Screens that read at any size: lay out for the terminal's width, fit its height, redraw.

From 40 columns × 15 lines up. Rows of short items (the grade bar, the key hints, the
counts) flow onto more lines as the width shrinks instead of wrapping mid-item. A `Box` is
a panel with a title while there is room, and a bold title over its text when there is not.
`Screen` remembers what it printed, so a screen can be drawn again: after a resize, after
`?` (the keys), and compacted (boxes without borders) when it is taller than the terminal.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.panel import Panel
from rich.rule import Rule
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

GAP = "   "


@dataclass
class Flow:
    """Short items side by side, as many on a line as fit; never one split across lines."""

    items: Sequence[Text]
    gap: str = GAP
    style: str = ""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from flow_lines(self.items, options.max_width, self.gap, self.style)


def flow_lines(items: Sequence[Text], width: int, gap: str = GAP, style: str = "") -> list[Text]:
    lines: list[Text] = []
    line = Text(style=style)
    for item in items:
        if line.cell_len and line.cell_len + len(gap) + item.cell_len > width:
            lines.append(line)
            line = Text(style=style)
        if line.cell_len:
            line.append(gap)
        line.append_text(item)
    if line.cell_len or not lines:
        lines.append(line)
    return lines


@dataclass
class Box:
    """A titled panel; without its border when `compact` or when the title does not fit."""

    body: RenderableType
    title: str
    compact: bool = False
    title_style: str = "bold"

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        title_fits = len(self.title) + 6 <= options.max_width
        if self.compact:
            yield Group(Text(self.title, self.title_style), self.body)
        elif title_fits:
            yield Panel(self.body, title=self.title, title_align="left")
        else:  # a long title (a compute card's own question) goes inside the box
            yield Panel(Group(Text(self.title, self.title_style), self.body))


@dataclass
class Title:
    """A title (a card's key) as a rule across the screen, or a plain line if it won't fit."""

    text: str

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if len(self.text) + 6 <= options.max_width:
            yield Rule(Text(self.text, style="dim"))
        else:
            yield Text(self.text, style="dim", overflow="fold")


def keys_help(rows: Iterable[tuple[str, str]]) -> Box:
    """The `?` panel: each key and what it does, one per line (fits 40 columns)."""
    table = Table(box=None, show_header=False, padding=(0, 2, 0, 0), pad_edge=False)
    table.add_column("key", style="bold", no_wrap=True)
    table.add_column("does")
    for key, does in rows:
        table.add_row(key, does)
    return Box(table, "Keys")


@dataclass
class Screen:
    """What the current screen shows, so it can be drawn again.

    `live` (a terminal): each new card starts a cleared screen, and a redraw clears and
    prints everything again at the terminal's current size. A screen taller than the
    terminal loses its boxes' borders; if it is still too tall, the footer (the grade bar,
    the keys) stays at the bottom and the rest shows a page at a time (`more`), from the
    top or from the item last anchored (what the user just typed, and the reply to it).
    Otherwise (piped input, a transcript) items are only printed, in full.
    """

    console: Console
    live: bool
    items: list[RenderableType] = field(default_factory=list)
    footer: list[RenderableType] = field(default_factory=list)
    offset: int = 0  # the first line of the body shown, when it is shown a page at a time
    anchor: int | None = None  # the item the next redraw pages to

    def start(self, *items: RenderableType) -> None:
        self.items, self.footer, self.offset, self.anchor = [], [], 0, None
        if self.live:
            self.console.clear()
        for item in items:
            self.print(item)

    def print(
        self, item: RenderableType, end: str = "\n", footer: bool = False, scroll: bool = False
    ) -> None:
        """Show `item`, at the bottom if `footer`; with `scroll`, paged on to if need be."""
        if footer:
            self.footer.append(item)
        else:
            self.items.append(item)
            if scroll:
                self.anchor = len(self.items) - 1
        if not self.live:
            self.console.print(item, end=end)
        elif self._compact() or self._too_tall() or (self.footer and not footer):
            self.redraw()  # compacted, paged, or a footer kept at the bottom
        else:
            self.console.print(item, end=end)

    def remember(self, item: RenderableType, scroll: bool = False) -> None:
        """Keep an item already on screen (a line the user typed) for the next redraw."""
        self.items.append(item)
        if scroll:
            self.anchor = len(self.items) - 1

    def shows(self, title: str) -> bool:
        """Whether a box with this title is on the screen."""
        return any(box.title == title for box in self._boxes())

    def drop(self, item: RenderableType) -> None:
        """Forget an item (a hint that no longer applies); shown no more from the next redraw."""
        self.items = [shown for shown in self.items if shown is not item]
        self.footer = [shown for shown in self.footer if shown is not item]

    def more(self) -> bool:
        """Show the next page of a screen taller than the terminal (after the last: the
        first); False when everything is on screen already."""
        pages = self._pages() if self.live else None
        if pages is None:
            return False
        body, room = pages
        self.offset = self.offset + room if self.offset + room < len(body) else 0
        self.anchor = None
        self.redraw()
        return True

    def redraw(self) -> None:
        if not self.live:
            return
        self._set_compact(False)
        if self._too_tall():
            self._set_compact(True)
        self.console.clear()
        pages = self._pages()
        if pages is None:
            for item in (*self.items, *self.footer):
                self.console.print(item)
            return
        body, room = pages
        if self.anchor is not None:
            self.offset = len(self._lines(self.items[: self.anchor]))
        self.offset = min(self.offset, max(0, len(body) - room))
        for line in body[self.offset : self.offset + room]:
            self.console.print(_text(line), no_wrap=True)
        left = len(body) - self.offset - room
        marker = f"… {left} more line{'s' * (left != 1)} (m: more)" if left else "(m: from the top)"
        self.console.print(Text(marker, style="dim"))
        for item in self.footer:
            self.console.print(item)

    def _pages(self) -> tuple[list[list[Segment]], int] | None:
        """The body's lines and how many fit above the footer, or None when all fit."""
        if not self._too_tall():
            return None
        body = self._lines(self.items)
        room = max(1, self.console.height - 2 - len(self._lines(self.footer)))  # marker, cursor
        return body, room

    def _lines(self, items: Iterable[RenderableType]) -> list[list[Segment]]:
        options = self.console.options.update(height=None)
        return [
            line for item in items for line in self.console.render_lines(item, options, pad=False)
        ]

    def _too_tall(self) -> bool:
        return len(self._lines((*self.items, *self.footer))) >= self.console.height  # + cursor

    def _boxes(self) -> list[Box]:
        return [item for item in (*self.items, *self.footer) if isinstance(item, Box)]

    def _compact(self) -> bool:
        return any(box.compact for box in self._boxes())

    def _set_compact(self, compact: bool) -> None:
        for box in self._boxes():
            box.compact = compact


def _text(line: list[Segment]) -> Text:
    """One rendered line again as Text, to print it as it was laid out."""
    text = Text(end="")
    for segment in line:
        text.append(segment.text, segment.style)
    return text
