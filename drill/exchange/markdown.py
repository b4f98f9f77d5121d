"""A study sheet in Markdown: a heading per deck and per card, answers right below.

Card text is Markdown already and goes in as written, math (`$…$`) included; only HTML
tags are escaped, so they show as text, as they do in the terminal and in Anki. Exercise
text is plain text whose line breaks matter, so it goes in fenced blocks.
"""

from __future__ import annotations

from collections.abc import Iterable

from drill.decks import cloze
from drill.exchange.entries import Entry
from drill.exchange.mathjax import markdown_source
from drill.exercises.base import Exercise
from drill.exercises.grading import format_value
from drill.model import CardType, Deck


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
    card = entry.card
    if card.type is CardType.CLOZE:
        return _cloze(entry)
    question = markdown_source(card.q.strip())
    # A one-line question is the heading itself; a longer one sits under the card id.
    multiline = "\n" in question
    parts = [f"## {card.id}", question] if multiline else [f"## {question}"]
    if card.type is CardType.CHOICE:
        parts.append("\n".join(f"{n}. {markdown_source(c)}" for n, c in enumerate(card.choices, 1)))
        parts.append("**Answer:** " + ", ".join(markdown_source(a) for a in card.answers))
    if card.a.strip():
        parts.append(markdown_source(card.a.strip()))
    return "\n\n".join(parts + _reference(entry))


def _cloze(entry: Entry) -> str:
    """The text with every deletion blanked, then with the answers in bold."""
    text = markdown_source(entry.card.text.strip())
    blanked = cloze.render(text, None, hidden=lambda d: f"**\\[{d.hint or '…'}\\]**")
    filled = cloze.render(text, None, hidden=lambda d: f"**{d.answer}**")
    parts = [f"## {entry.card.id}", blanked, f"**Answer:** {filled}"]
    if entry.card.a.strip():
        parts.append(markdown_source(entry.card.a.strip()))
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
