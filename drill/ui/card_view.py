"""How cards read in the terminal, and the study screens of cloze, choice and typed-answer
cards. The study screen (drill.ui.study) hands these cards to `ask` and grades the result.

Card text is Markdown with `$…$` math: `card_markdown` renders the math as Unicode and
shows HTML tags as text (rich would drop them), as the Anki and Markdown exports do. Text
that can only be paragraphs of words is shown without a Markdown parser (markdown-it and
rich's Markdown take a study session's start some 40 ms to load).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.panel import Panel
from rich.text import Text

from drill.decks import cloze
from drill.decks.markup import plain_paragraphs
from drill.decks.scheduled import deletion_number
from drill.model import Card, CardType, Rating
from drill.ui.keys import ENTER, QUIT, Keys
from drill.ui.math import terminal_text

if TYPE_CHECKING:
    from drill.exercises.typed_answer import Piece

GRADE_STYLE = {  # how each grade is written on screen
    Rating.AGAIN: "bold red",
    Rating.HARD: "bold yellow",
    Rating.GOOD: "bold green",
    Rating.EASY: "bold cyan",
}

COMMANDS = ("u", "s", QUIT)  # undo, suspend, quit: the study screen's keys
_SCREEN_KEYS = ("?", "m")  # help and more: the study screen's, passed on to it
_REVEAL_HINT = "Enter: show answer   u: undo   s: suspend   q: quit"


def card_markdown(text: str) -> RenderableType:
    """Card Markdown as rich shows it: see the module's docstring."""
    paragraphs = None if "$" in text else plain_paragraphs(text)
    if paragraphs is None:
        from drill.ui.card_markdown import CardMarkdown

        return CardMarkdown(text)
    return _Paragraphs(paragraphs)


class _Paragraphs:
    """Paragraphs of words, as rich's Markdown shows them: a line break within one is a
    space, a blank line stands between them."""

    def __init__(self, paragraphs: list[str]) -> None:
        self.paragraphs = paragraphs

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for number, paragraph in enumerate(self.paragraphs):
            if number:
                yield Text("")
            yield Text(paragraph.replace("\n", " "), justify="left")


@dataclass(frozen=True)
class Asked:
    """What happened on a card's screen: a command key instead of an answer, or the grade
    to propose (None: the user grades), and what was typed and whether it was right."""

    command: str | None = None
    default: Rating | None = None
    typed: str | None = None
    correct: bool | None = None


def handles(card: Card) -> bool:
    """Whether `ask` shows this card (the study screen shows basic and compute cards)."""
    return card.type in (CardType.CLOZE, CardType.CHOICE) or card.type_answer is not None


OnKey = Callable[[str], object]


def ask(
    card: Card, console: Console, keys: Keys, rng: random.Random, on_key: OnKey | None = None
) -> Asked:
    """Show the question, take the answer, show the outcome; returns what to grade.

    Keys that are neither an answer nor one of COMMANDS (`?` for help, a resize) go to
    `on_key`, the study screen's own handler.
    """
    other = on_key or (lambda key: None)
    if card.type is CardType.CLOZE:
        return _cloze(card, console, keys, other)
    if card.type is CardType.CHOICE:
        return _choice(card, console, keys, rng, other)
    return _typed(card, console, keys, other)


# -- the two sides, as Markdown (also for `drill show`) ---------------------------------


def sides(card: Card) -> tuple[str, str]:
    """The card's question and answer as Markdown, whatever its type."""
    if card.type is CardType.CLOZE:
        number = deletion_number(card)
        question = cloze.render(card.text, number, hidden=_blank)
        answer = cloze.render(card.text, number, hidden=lambda d: f"**{d.answer}**")
        return question, _joined(answer, card.a)
    if card.type is CardType.CHOICE:
        listed = "\n".join(f"{n}. {choice}" for n, choice in enumerate(card.choices, 1))
        right = ", ".join(f"**{answer}**" for answer in card.answers)
        return f"{card.q}\n\n{listed}", _joined(f"Answer: {right}", card.a)
    if card.type_answer is not None:
        also = f" (also: {', '.join(card.accept)})" if card.accept else ""
        return card.q, _joined(card.a, f"Typed answer: `{card.type_answer}`{also}")
    return card.q, card.a


def _blank(deletion: cloze.Deletion) -> str:
    return f"**\\[{deletion.hint or '…'}\\]**"


def _joined(*parts: str) -> str:
    return "\n\n".join(part.strip() for part in parts if part and part.strip())


def answer_panel(card: Card, markdown: str, title: str = "Answer") -> Panel:
    parts: list[Any] = [card_markdown(markdown)] if markdown.strip() else []
    if card.ref:
        parts.append(Text(f"\n{card.ref}", style="dim italic"))
    return Panel(Group(*parts), title=title, title_align="left")


# -- cloze ------------------------------------------------------------------------------


def _cloze(card: Card, console: Console, keys: Keys, on_key: OnKey) -> Asked:
    question, answer = sides(card)
    number = deletion_number(card)
    title = f"Cloze c{number}" if number else "Cloze"
    console.print(Panel(card_markdown(question), title=title, title_align="left"))
    console.print(Text(_REVEAL_HINT, "dim"))
    while True:
        key = keys.key()
        if key == ENTER:
            break
        if key in COMMANDS:
            return Asked(command=key)
        on_key(key)
    console.print(answer_panel(card, answer))
    return Asked()


# -- multiple choice --------------------------------------------------------------------


def _choice(card: Card, console: Console, keys: Keys, rng: random.Random, on_key: OnKey) -> Asked:
    from drill.exercises.choice import check_picks, shuffled  # (only for choice cards)

    shown = shuffled(card.choices, rng)
    listed = [
        _inline(f" {n}. ", "bold").append_text(_inline(choice, ""))
        for n, choice in enumerate(shown, 1)
    ]
    question = Group(card_markdown(card.q), Text(""), *listed)
    kind = "Choose every right answer" if card.multiple else "Choose one"
    console.print(Panel(question, title=kind, title_align="left"))
    if card.multiple:
        hint = "Type the numbers of every right choice (e.g. 1 3) and Enter; empty: show the answer"
        console.print(Text(f"{hint}; u: undo   s: suspend   q: quit", "dim"))
    else:
        console.print(Text(f"1-{len(shown)}: choose   {_REVEAL_HINT}", "dim"))
    picks = _read_picks(console, keys, len(shown), card.multiple, on_key)
    if isinstance(picks, str):
        return Asked(command=picks)
    if picks is None:
        console.print(Text("No answer given.", style="yellow"))
        _print_choices(console, shown, card.answers, ())
        if card.a.strip() or card.ref:
            console.print(answer_panel(card, card.a, "Why"))
        return Asked()
    verdict = check_picks(shown, picks, card.answers)
    _print_verdict(console, verdict.correct)
    _print_choices(console, shown, card.answers, verdict.picked)
    if card.a.strip() or card.ref:
        console.print(answer_panel(card, card.a, "Why"))
    typed = " | ".join(verdict.picked)
    return Asked(default=_proposal(verdict.correct), typed=typed, correct=verdict.correct)


def _read_picks(
    console: Console, keys: Keys, count: int, multiple: bool, on_key: OnKey
) -> tuple[int, ...] | str | None:
    """The picked positions, a command key, or None to see the answer without answering."""
    from drill.exercises.choice import BadPick, parse_picks

    while True:
        text = keys.line().strip().lower() if multiple else keys.key()
        if text == ENTER:
            return None
        if text in COMMANDS:
            return text
        try:
            return parse_picks(text, count, multiple)
        except BadPick as problem:
            if text in _SCREEN_KEYS or not text.isprintable():  # `?`, a resize, an arrow
                on_key(text)
            else:
                console.print(Text(f"{str(problem).capitalize()}.", style="yellow"))


def _print_choices(
    console: Console, shown: list[str], answers: tuple[str, ...], picked: tuple[str, ...]
) -> None:
    listed = []
    for number, choice in enumerate(shown, 1):
        right, chosen = choice in answers, choice in picked
        mark = "✓" if right else "✗" if chosen else " "
        note = "  ← yours" if chosen else ""
        style = "green" if right else "red" if chosen else "dim"
        line = Text(f" {mark} {number}. ", style=f"bold {style}")
        line.append_text(_inline(choice, style))
        line.append(note, style="dim")
        listed.append(line)
    console.print(Group(*listed))


def _inline(markdown: str, style: str) -> Text:
    """One line of card Markdown as plain styled text (math rendered, markup kept simple)."""
    return Text(terminal_text(markdown), style=style)


# -- typed answers ----------------------------------------------------------------------


def _typed(card: Card, console: Console, keys: Keys, on_key: OnKey) -> Asked:
    console.print(Panel(card_markdown(card.q), title="Question", title_align="left"))
    hint = "Type your answer and Enter (empty: show the answer; u, s or q alone: keys)"
    console.print(Text(hint, "dim"))
    while True:
        console.print(Text("answer> ", style="bold"), end="")
        typed = keys.line()
        word = typed.strip().lower()
        if word in COMMANDS:  # as at a compute card's prompt
            return Asked(command=word)
        if word not in _SCREEN_KEYS:
            break
        on_key(word)
    canonical = card.type_answer or ""
    if not typed.strip():
        console.print(Text("No answer given.", style="yellow"))
        console.print(Text(f"Expected: {canonical}"))
        console.print(answer_panel(card, card.a))
        return Asked()
    from drill.exercises.typed_answer import check_typed  # (only for typed answers)

    verdict = check_typed(typed, canonical, card.accept)
    _print_verdict(console, verdict.correct)
    if verdict.matched is not None and verdict.matched != canonical:
        console.print(Text(f"Accepted as {verdict.matched!r}; the answer is {canonical!r}.", "dim"))
    if not verdict.exact:
        console.print(_diff_line("   typed: ", verdict.typed, "bold red"))
        console.print(_diff_line("expected: ", verdict.expected, "bold green underline"))
    console.print(answer_panel(card, card.a))
    return Asked(default=_proposal(verdict.correct), typed=typed.strip(), correct=verdict.correct)


def _diff_line(label: str, pieces: tuple[Piece, ...], changed: str) -> Text:
    line = Text(label, style="dim")
    for piece in pieces:
        line.append(piece.text, style="" if piece.same else changed)
    return line


def _print_verdict(console: Console, correct: bool) -> None:
    if correct:
        console.print(Text("✓ Correct.", style="bold green"))
    else:
        console.print(Text("✗ Not quite.", style="bold red"))


def _proposal(correct: bool) -> Rating:
    return Rating.GOOD if correct else Rating.AGAIN
