"""The HTML of a note's two sides, for Anki packages and Anki-style text files.

Card text is Markdown; raw HTML in it is escaped, never passed through, so a `<` in an
answer shows as a `<` instead of breaking the card. Exercise text is plain text with
line structure that matters (vectors, matrices, solution steps), so it is escaped and kept
in preformatted blocks.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from drill.decks import markup
from drill.exchange.entries import Entry
from drill.exchange.mathjax import render_with_math
from drill.exchange.rendercache import rendered
from drill.exercises.grading import format_value
from drill.model import Card, CardType

if TYPE_CHECKING:
    from markdown_it import MarkdownIt


@functools.cache
def _markdown() -> MarkdownIt:
    # markdown-it-py comes with rich; imported here so that `drill --help` stays fast.
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


@functools.lru_cache(maxsize=1024)
def markdown_html(text: str, cloze: bool = False) -> str:
    """Markdown to HTML, with any HTML in the source shown as text and math as MathJax.

    Each text is rendered once: an export repeats a compute card's prompt for each of its
    exercises and a choice card's right answers among its choices."""
    return render_with_math(text, _render_block, cloze)


def _render_block(source: str) -> str:
    plain = plain_paragraphs(source)
    return plain if plain is not None else rendered("block", source, _markdown_block)


def _markdown_block(source: str) -> str:
    return _markdown().render(source).strip()


def _markdown_inline(source: str) -> str:
    return _markdown().renderInline(source).strip()


def plain_paragraphs(text: str) -> str | None:
    """The HTML markdown-it gives text that can only be paragraphs of words, or None for
    any other text (the rule is `markup.plain_paragraphs`, shared with the study screen).
    About a fiftieth of markdown-it's time, which was most of an Anki export's
    (benchmarks/README.md); tests compare the two on random text."""
    paragraphs = markup.plain_paragraphs(text)
    if paragraphs is None:
        return None
    return "<p>" + "</p>\n<p>".join(paragraphs).replace('"', "&quot;") + "</p>"


def escape(text: str) -> str:
    """html.escape(text): the same text, each of & < > " ' replaced only where it occurs
    (looking for a character costs a fourth of replacing it in text without one, and
    exercise text, most of an export's, holds few of them)."""
    if "&" in text:
        text = text.replace("&", "&amp;")  # first, so the entities below stay as they are
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if '"' in text:
        text = text.replace('"', "&quot;")
    if "'" in text:
        text = text.replace("'", "&#x27;")
    return text


def inline_html(text: str) -> str:
    """One line of Markdown (a choice) to HTML, without a paragraph around it."""
    return render_with_math(text, lambda source: rendered("inline", source, _markdown_inline))


def question_html(entry: Entry) -> str:
    """The front of the note."""
    card = entry.card
    if card.type is CardType.CLOZE:
        return markdown_html(card.text, cloze=True)  # Anki's cloze note hides the deletions
    if card.type is CardType.CHOICE:
        return f"{markdown_html(card.q)}\n{choices_html(card)}"
    prompt = markdown_html(entry.card.q) if entry.card.q else ""
    if entry.exercise is None:
        return prompt
    exercise = f'<pre class="exercise">{escape(entry.exercise.question)}</pre>'
    return f"{prompt}\n{exercise}" if prompt else exercise


def answer_html(entry: Entry) -> str:
    """The back of the note (without the question, which Anki's template repeats)."""
    if entry.exercise is None:
        card = entry.card
        if card.type is CardType.CHOICE:
            right = ", ".join(f"<strong>{inline_html(answer)}</strong>" for answer in card.answers)
            explanation = f"\n{markdown_html(card.a)}" if card.a.strip() else ""
            return f'<p class="result">Answer: {right}</p>{explanation}'
        return markdown_html(card.a) if card.a.strip() else ""
    exercise = entry.exercise
    parts = [f'<p class="result">Answer: <code>{escape(format_value(exercise.answer))}</code></p>']
    if exercise.solution:
        steps = escape("\n".join(exercise.solution))
        parts.append(f'<pre class="solution">{steps}</pre>')
    return "\n".join(parts)


def choices_html(card: Card) -> str:
    """The choices as written (Anki cannot shuffle them), numbered."""
    items = "".join(f"<li>{inline_html(choice)}</li>" for choice in card.choices)
    return f'<ol class="choices">{items}</ol>'


def reference_html(entry: Entry) -> str:
    ref = entry.card.ref
    return escape(ref) if ref else ""
