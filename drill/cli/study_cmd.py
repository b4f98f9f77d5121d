"""`drill study`, `drill due`, `drill show`, `drill suspend` and `drill unsuspend`."""

from __future__ import annotations

from typing import Annotated

import typer

from drill.cli.app import app
from drill.cli.common import DeckArgs, DecksOption, TagOption, load_decks, open_store


@app.command()
def study(
    decks: DeckArgs = None,
    tag: TagOption = None,
    new: Annotated[
        int | None,
        typer.Option("--new", min=0, help="New cards to introduce, instead of the day's limit."),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Stop after this many answers.")
    ] = None,
    extra: DecksOption = None,
) -> None:
    """Review the cards due now: Enter shows the answer, 1-4 grades, u undoes, s suspends, q quits.

    When input is not a terminal, each step reads one line: an empty line reveals, a digit
    grades, so a session can be scripted: printf '\\n3\\n\\n3\\nq\\n' | drill study backprop
    """
    from rich.console import Console

    from drill.decks.curriculum import load_curriculum
    from drill.decks.selection import select_cards
    from drill.home.config import load_config
    from drill.review.session import Session, utc_now
    from drill.ui.keys import Keys
    from drill.ui.study import StudyScreen, render_summary

    config = load_config()
    collection = load_decks(extra, config)
    # New cards come in teaching order (decks/curriculum.toml), not file by file.
    cards = load_curriculum().teaching_order(select_cards(collection, decks or (), tag or ()))
    console = Console(highlight=False)
    with open_store(collection) as store:
        session = Session(store, cards, config, new_limit=new, limit=limit)
        if session.next_card() is None:
            from drill.ui.study import next_due_text

            summary = session.finish()
            # Cards still due today here are new ones --new held back: say so, not "due in <1m".
            held = f" with --new {new}" if summary.remaining and new is not None else ""
            text = next_due_text(summary.remaining, summary.next_due, utc_now())
            typer.echo(f"Nothing is due now{held}. {text}")
            return
        store.check_writable()  # a read-only file or a full disk, said before the first card
        summary = StudyScreen(session, console, Keys()).run()
        render_summary(summary, console, utc_now())


@app.command()
def due(decks: DeckArgs = None, tag: TagOption = None, extra: DecksOption = None) -> None:
    """Count the cards due now and later today, per deck, and say when the next one is due."""
    from datetime import UTC, datetime

    from drill.decks.selection import select_cards
    from drill.home.config import load_config
    from drill.review.queue import count_due_by_deck, day_end, day_start
    from drill.ui.due_view import due_table

    config = load_config()
    collection = load_decks(extra, config)
    cards = select_cards(collection, decks or (), tag or ())
    now = datetime.now(UTC)  # not session.utc_now: the session module is not needed here
    with open_store(collection) as store:
        # Review cards due after today come as due dates only: far quicker on a large
        # collection than every card's full record (benchmarks/README.md).
        records, later = store.session_records(day_end(now, config.rollover_hour))
        done_today = store.counts_since(day_start(now, config.rollover_hour))
    rows, total = count_due_by_deck(cards, records, later, now, config, done_today)
    due_table(rows, total, now)


@app.command()
def show(
    key: Annotated[str, typer.Argument(help="The card, as DECK/CARD.")],
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed", help="For a compute card: rebuild the exercise made with this seed."
        ),
    ] = None,
    extra: DecksOption = None,
) -> None:
    """Show a card, its schedule and its review history (compute cards: rebuild an exercise)."""
    from drill.ui.tables import show_card, show_exercise

    collection = load_decks(extra)
    card = collection.card(key)
    if seed is not None:
        show_exercise(card, seed)
        return
    with open_store(collection) as store:
        show_card(card, store.card(card.key), store.reviews(card.key))


@app.command()
def suspend(
    keys: Annotated[list[str], typer.Argument(help="Cards as DECK/CARD, or whole decks by id.")],
    extra: DecksOption = None,
) -> None:
    """Keep cards out of study until they are unsuspended."""
    _set_suspended(keys, True, extra)


@app.command()
def unsuspend(
    keys: Annotated[list[str], typer.Argument(help="Cards as DECK/CARD, or whole decks by id.")],
    extra: DecksOption = None,
) -> None:
    """Let suspended cards come back into study."""
    _set_suspended(keys, False, extra)


def _set_suspended(names: list[str], suspended: bool, extra) -> None:
    from drill.decks.selection import resolve_keys

    collection = load_decks(extra)
    keys = resolve_keys(collection, names)
    with open_store(collection) as store:
        changed = store.set_suspended(keys, suspended)
    verb = "Suspended" if suspended else "Unsuspended"
    typer.echo(f"{verb} {changed} card{'s' * (changed != 1)}.")
