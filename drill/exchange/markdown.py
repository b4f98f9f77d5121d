"""A study sheet in Markdown: a heading per deck and per card, answers right below.

Card text is Markdown already and goes in as written. Exercise text is plain text whose
line breaks matter, so it goes in fenced blocks.
"""

from __future__ import annotations

from collections.abc import Iterable

from drill.exchange.entries import Entry
from drill.exercises.base import Exercise
from drill.exercises.grading import format_value
from drill.model import Deck


def render_markdown(entries: Iterable[Entry]) -> tuple[str, int]:
    """The sheet as text, and the number of entries in it."""
    blocks: list[str] = []
    deck_id: str | None = None
    count = 0
    for entry in entries:
        if entry.deck.id != deck_id:
            deck_id = entry.deck.id
            blocks.append(_deck_heading(entry.deck))
        exercise = entry.exercise
        blocks.append(_exercise(entry, exercise) if exercise else _card(entry))
        count += 1
    return "\n\n".join(blocks) + "\n" if blocks else "", count


def _deck_heading(deck: Deck) -> str:
    parts = [f"# {deck.title}"]
    if deck.description:
        parts.append(deck.description.strip())
    if deck.tags:
        parts.append("Tags: " + ", ".join(deck.tags))
    return "\n\n".join(parts)


def _card(entry: Entry) -> str:
    question = entry.card.q.strip()
    # A one-line question is the heading itself; a longer one sits under the card id.
    multiline = "\n" in question
    parts = [f"## {entry.card.id}", question] if multiline else [f"## {question}"]
    parts.append(entry.card.a.strip())
    return "\n\n".join(parts + _reference(entry))


def _exercise(entry: Entry, exercise: Exercise) -> str:
    parts = [f"## {entry.card.id}, exercise {entry.instance}"]
    if entry.card.q:
        parts.append(entry.card.q.strip())
    parts.append(_fenced(exercise.question))
    parts.append(f"**Answer:** `{format_value(exercise.answer)}`")
    if exercise.solution:
        parts.append("Solution:\n\n" + _fenced("\n".join(exercise.solution)))
    return "\n\n".join(parts + _reference(entry))


def _reference(entry: Entry) -> list[str]:
    return [f"*Source: {entry.card.ref}*"] if entry.card.ref else []


def _fenced(text: str) -> str:
    # A fence longer than any backtick run inside keeps the block closed.
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}text\n{text.strip()}\n{fence}"
