"""`drill list`, `drill search`, `drill add` and `drill edit`: find cards, write new ones."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from drill.cli.app import app
from drill.cli.common import (
    DeckArgs,
    DecksOption,
    TagOption,
    complete_card_keys,
    complete_deck_ids,
    load_decks,
    open_store,
)
from drill.errors import DrillError
from drill.review.listing import StateFilter

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import datetime

    from drill.decks.loader import Collection
    from drill.model import Card

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print the cards as JSON instead of a table.")
]


@app.command("list")
def list_cards(
    decks: DeckArgs = None,
    tag: TagOption = None,
    state: Annotated[
        list[StateFilter] | None,
        typer.Option(
            "--state",
            help="Only cards in this state (repeatable): new, learning (relearning too), "
            "review, suspended, leech.",
            show_default=False,
        ),
    ] = None,
    due_before: Annotated[
        str | None,
        typer.Option(
            "--due-before",
            metavar="DATE",
            help="Only cards due before this study day: YYYY-MM-DD, today or tomorrow.",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
    extra: DecksOption = None,
) -> None:
    """List cards with their state, due date, stability and lapses, and the question.

    A cloze card is listed once per deletion (deck/card#c1), a reversed card twice.
    """
    from drill.decks.selection import select_study_cards
    from drill.home.config import load_config

    config = load_config()
    moment = _study_day(due_before, config.rollover_hour) if due_before else None
    collection = load_decks(extra, config)
    cards = select_study_cards(collection, decks or (), tag or ())
    _print_rows(collection, cards, state or (), moment, as_json)


@app.command()
def search(
    words: Annotated[
        list[str], typer.Argument(help="Words to find, all of them (the start of a word).")
    ],
    tag: TagOption = None,
    as_json: JsonOption = False,
    extra: DecksOption = None,
) -> None:
    """Find cards by the words of their question, answer, choices, tags or id."""
    from drill.decks.search import search_cards
    from drill.decks.selection import select_study_cards

    collection = load_decks(extra)
    deck_tags = {deck.id: deck.tags for deck in collection.decks}
    cards = search_cards(select_study_cards(collection, (), tag or ()), words, deck_tags)
    _print_rows(collection, cards, (), None, as_json)


@app.command()
def add(
    deck: Annotated[
        str,
        typer.Argument(
            help="Your deck to add the card to (id or unique prefix).",
            autocompletion=complete_deck_ids,
        ),
    ],
    question: Annotated[
        str | None, typer.Option("--question", "-q", help="The question (else asked for).")
    ] = None,
    answer: Annotated[
        str | None, typer.Option("--answer", "-a", help="The answer (else asked for).")
    ] = None,
    tags: Annotated[
        list[str] | None,
        typer.Option("--tag", "-t", metavar="TAG", help="A tag for the card (repeatable)."),
    ] = None,
    edit: Annotated[
        bool,
        typer.Option(
            "--edit", "-e", help="Write the card in $EDITOR, from a template (any card type)."
        ),
    ] = False,
    extra: DecksOption = None,
) -> None:
    """Add a card to one of your decks: asks for the question, answer and tags.

    The card gets an id made from its question and goes at the end of the deck's cards,
    the rest of the file untouched; it is checked as `drill lint` would before it is saved.
    """
    from drill.decks.append import add_card, card_yaml, with_id, writable_file
    from drill.decks.lookup import resolve_deck
    from drill.home.config import load_config

    config = load_config()
    collection = load_decks(extra, config)
    target = resolve_deck(collection, deck)
    path = writable_file(target)
    taken = {card.id for card in target.cards} | {old for c in target.cards for old in c.was}
    if edit:
        _add_in_editor(target.id, path, taken, config.max_deck_bytes)
        return
    asking = question is None or answer is None  # options given for both: a script
    question = question if question is not None else _ask("Question")
    answer = answer if answer is not None else _ask_lines("Answer (end with an empty line)")
    if tags is None:
        asked = _ask("Tags (separated by spaces, may be empty)", required=False) if asking else ""
        tags = asked.replace(",", " ").split()
    fields: dict[str, object] = {"q": question, "a": answer}
    if tags:
        fields["tags"] = list(tags)
    snippet = with_id(card_yaml(fields), taken)
    max_bytes = config.max_deck_bytes
    _added(path, lambda: add_card(path, snippet, "new card", max_bytes))


@app.command()
def edit(
    key: Annotated[
        str,
        typer.Argument(
            help="The card, as DECK/CARD (DECK may be a unique prefix of its id).",
            autocompletion=complete_card_keys,
        ),
    ],
    extra: DecksOption = None,
) -> None:
    """Open a card's deck file in $EDITOR at the card's line, then check the file.

    The problems found after the editor closes are listed as drill lint lists them.
    """
    from drill.decks.append import writable_file
    from drill.decks.lookup import written_card
    from drill.home.editor import edit_file

    collection = load_decks(extra)
    card = written_card(collection, key)
    deck = collection.deck(card.deck_id)
    path = writable_file(deck, "edit")
    edit_file(path, card.line)
    _report_lint(path, f"{card.note_key}: {path}")


# -- helpers ------------------------------------------------------------------------------


def _print_rows(
    collection: Collection,
    cards: list[Card],
    states: Sequence[StateFilter],
    moment: datetime | None,
    as_json: bool,
) -> None:
    from drill.review.listing import card_rows
    from drill.ui.card_list import question, table_lines

    with open_store(collection) as store:
        rows = card_rows(cards, store.cards(), states, moment)
    if as_json:
        listed = [row.to_dict(question(row)) for row in rows]
        typer.echo(json.dumps(listed, indent=2, ensure_ascii=False))
        return
    if not rows:
        typer.echo("No cards match.")
        return
    for line in table_lines(rows, shutil.get_terminal_size().columns):
        typer.echo(line)
    typer.echo(f"{len(rows)} card{'s' * (len(rows) != 1)}.")


def _study_day(text: str, rollover_hour: int) -> datetime:
    """The moment the study day `text` names begins (YYYY-MM-DD, today, tomorrow)."""
    from datetime import UTC, date, datetime, timedelta

    from drill.review.queue import day_start, rollover_moment

    today = day_start(datetime.now(UTC), rollover_hour).astimezone().date()
    named = {"today": today, "tomorrow": today + timedelta(days=1)}
    try:
        day = named.get(text.strip().lower()) or date.fromisoformat(text.strip())
    except ValueError:
        raise DrillError(f"--due-before: {text!r} is not a date; write YYYY-MM-DD") from None
    return rollover_moment(day, rollover_hour)


def _ask(prompt: str, required: bool = True) -> str:
    typer.echo(f"{prompt}: ", nl=False)
    line = sys.stdin.readline()
    if not line and required:
        raise DrillError(f"no {prompt.split()[0].lower()} given; nothing was added")
    if required and not line.strip():
        raise DrillError(f"the {prompt.split()[0].lower()} is empty; nothing was added")
    return line.strip()


def _ask_lines(prompt: str) -> str:
    typer.echo(f"{prompt}:")
    lines: list[str] = []
    while (line := sys.stdin.readline()) and line.strip():
        lines.append(line.rstrip("\n"))
    if not lines:
        raise DrillError(f"the {prompt.split()[0].lower()} is empty; nothing was added")
    return "\n".join(lines)


def _add_in_editor(deck_id: str, path: Path, taken: set[str], max_bytes: int) -> None:
    import tempfile

    from drill.decks.append import add_card, drafted_card, template, with_id
    from drill.home.editor import edit_file

    handle, name = tempfile.mkstemp(prefix=f"drill-{deck_id}-", suffix=".yaml", text=True)
    draft = Path(name)
    with open(handle, "w", encoding="utf-8") as out:
        out.write(template(deck_id))
    edit_file(draft, 6)  # the `q:` line
    drafted = drafted_card(draft.read_text(encoding="utf-8"), deck_id)
    if drafted is None:
        draft.unlink(missing_ok=True)
        typer.echo("Nothing added.")
        return
    card, skipped = drafted
    snippet = with_id(card, taken)
    first = skipped + 1 - (snippet != card)  # an id line made here is not in the draft

    def add() -> Card:
        return add_card(path, snippet, str(draft), max_bytes, source_line=first)

    try:
        _added(path, add)
    except typer.Exit:
        typer.echo(f"Your card is kept in {draft}.", err=True)
        raise
    draft.unlink(missing_ok=True)


def _added(path: Path, add: Callable[[], Card]) -> None:
    from drill.decks.append import CardRejected

    try:
        card = add()
    except CardRejected as rejected:
        for error in rejected.errors:
            typer.echo(str(error), err=True)
        typer.echo(f"Error: {rejected}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Added {card.key} to {path} (line {card.line}).")


def _report_lint(path: Path, label: str) -> None:
    from drill.decks.loader import load_sources

    errors = load_sources([path], check_params=True).errors  # as `drill lint` checks it
    for error in errors:
        typer.echo(str(error))
    if errors:
        typer.echo(f"Found {len(errors)} error{'s' * (len(errors) != 1)} in {path}.")
        raise typer.Exit(1)
    typer.echo(f"{label}: OK")
