"""Card Markdown through rich's Markdown, loaded only when a text needs it (see
drill.ui.card_view.card_markdown, which callers use)."""

from __future__ import annotations

import functools
from typing import Any

from markdown_it import MarkdownIt
from rich.markdown import Markdown

from drill.ui.math import terminal_markdown


@functools.cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).enable(["strikethrough", "table"])


class CardMarkdown(Markdown):
    """Card Markdown for the terminal: math as Unicode, raw HTML shown as the text it is."""

    def __init__(self, text: str, **options: Any) -> None:
        super().__init__("", **options)
        # rich parses with HTML on, and then drops every tag it meets: parsed again here
        # with HTML off, a `<b>` in a card reads as `<b>`, as it does in Anki.
        self.markup = terminal_markdown(text)
        self.parsed = _parser().parse(self.markup)
