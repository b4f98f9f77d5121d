"""The HTML of a note's two sides, for Anki packages and Anki-style text files.

Card text is Markdown; raw HTML in it is escaped, never passed through, so a `<` in an
answer shows as a `<` instead of breaking the card. Exercise text is plain text with
line structure that matters (vectors, matrices, solution steps), so it is escaped and kept
in preformatted blocks.
"""

from __future__ import annotations

import functools
import html
from typing import TYPE_CHECKING

from drill.exchange.entries import Entry
from drill.exercises.grading import format_value

if TYPE_CHECKING:
    from markdown_it import MarkdownIt


@functools.cache
def _markdown() -> MarkdownIt:
    # markdown-it-py comes with rich; imported here so that `drill --help` stays fast.
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def markdown_html(text: str) -> str:
    """Markdown to HTML, with any HTML in the source shown as text."""
    return _markdown().render(text).strip()


def question_html(entry: Entry) -> str:
    """The front of the note."""
    prompt = markdown_html(entry.card.q) if entry.card.q else ""
    if entry.exercise is None:
        return prompt
    exercise = f'<pre class="exercise">{html.escape(entry.exercise.question)}</pre>'
    return f"{prompt}\n{exercise}" if prompt else exercise


def answer_html(entry: Entry) -> str:
    """The back of the note (without the question, which Anki's template repeats)."""
    if entry.exercise is None:
        return markdown_html(entry.card.a)
    exercise = entry.exercise
    parts = [
        f'<p class="result">Answer: <code>{html.escape(format_value(exercise.answer))}</code></p>'
    ]
    if exercise.solution:
        steps = html.escape("\n".join(exercise.solution))
        parts.append(f'<pre class="solution">{steps}</pre>')
    return "\n".join(parts)


def reference_html(entry: Entry) -> str:
    return html.escape(entry.card.ref or "")
