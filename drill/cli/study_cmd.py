"""`drill study`, `drill due`, `drill show`, `drill suspend` and `drill unsuspend`."""

from __future__ import annotations

from typing import Annotated

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


def _complete_keys_and_decks(incomplete: str) -> list[str]:
    return complete_deck_ids(incomplete) + complete_card_keys(incomplete)


SuspendKeys = typer.Argument(
    help="Cards as DECK/CARD (all it is studied as) or DECK/CARD#c1, or whole decks by id "
    "or unique prefix.",
    autocompletion=_complete_keys_and_decks,
)


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
    ahead: Annotated[
        int | None,
        typer.Option(
            "--ahead", min=1, metavar="N", help="Review ahead: the review cards due in N days."
        ),
    ] = None,
    cram: Annotated[
        bool,
        typer.Option(
            "--cram",
            help="The chosen cards whatever their schedule, weakest predicted recall first; "
            "practice only, unless --record.",
        ),
    ] = False,
    failed: Annotated[
        int | None,
        typer.Option(
            "--failed", min=1, metavar="N", help="The cards graded again in the last N days."
        ),
    ] = None,
    record: Annotated[
        bool,
        typer.Option("--record", help="With --cram: record the answers as reviews."),
    ] = False,
    steps: Annotated[
        bool | None,
        typer.Option(
            "--steps/--no-steps",
            help="Compute cards step by step: each forward value and gradient is asked and "
            "checked in turn (default: the guided_steps setting).",
            show_default=False,
        ),
    ] = None,
    extra: DecksOption = None,
) -> None:
    """Review the cards due now: Enter shows the answer, 1-4 grades, u undoes, s suspends, q quits.

    When input is not a terminal, each step reads one line: an empty line reveals, a digit
    grades, so a session can be scripted: printf '\\n3\\n\\n3\\nq\\n' | drill study backprop
    """
    from rich.console import Console

    from drill.cli import prep
    from drill.home.config import load_config
    from drill.review.session import utc_now
    from drill.ui.due_view import waiting_text
    from drill.ui.keys import Keys
    from drill.ui.study import StudyScreen, render_summary

    config = load_config()
    custom = bool(ahead or cram or failed or record)
    picked = prep.choose(extra, config, decks or (), tag or (), whole=custom)
    console = Console(highlight=False)
    with open_store(picked.decks) as store:
        # Toward a stored interview date (drill plan --set), and custom study: drill.cli.prep.
        chosen = prep.date_cards(picked.collection, config)
        if custom:
            session = prep.custom_session(
                store,
                picked.cards,
                config,
                chosen,
                ahead=ahead,
                cram=cram,
                failed=failed,
                record=record,
                limit=limit,
                now=utc_now(),
            )
            if session is None:
                return
        else:
            cards = picked.source if picked.cards is None else picked.cards
            session = prep.study_session(
                store, cards, config, chosen, new=new, limit=limit, now=utc_now()
            )
        # New cards the day's limit holds back are said to wait (not in custom study).
        waiting = (
            None if custom or new is not None else prep.new_limit_label(session.config, config)
        )
        if session.next_card() is None:
            from drill.ui.study import next_due_text

            summary = session.finish()
            # Cards still due today here are new ones --new held back: say so, not "due in <1m".
            held = f" with --new {new}" if summary.remaining and new is not None else ""
            text = next_due_text(summary.remaining, summary.next_due, utc_now())
            typer.echo(f"Nothing is due now{held}. {text}")
            if summary.new_waiting and waiting:
                typer.echo(waiting_text(summary.new_waiting, waiting))
            return
        store.check_writable()  # a read-only file or a full disk, said before the first card
        guided = config.guided_steps if steps is None else steps
        summary = StudyScreen(session, console, Keys(), guided_steps=guided).run()
        render_summary(summary, console, utc_now())
        if summary.new_waiting and waiting:
            console.print(waiting_text(summary.new_waiting, waiting))


@app.command()
def due(decks: DeckArgs = None, tag: TagOption = None, extra: DecksOption = None) -> None:
    """Count the cards due now and later today, per deck, and say when the next one is due."""
    from datetime import UTC, datetime

    from drill.cli import prep
    from drill.home.config import load_config
    from drill.review.due import DueQuery
    from drill.ui.due_view import due_table, readiness_text, tomorrow_text, waiting_text

    config = load_config()
    picked = prep.choose(extra, config, decks or (), tag or (), whole=False)
    now = datetime.now(UTC)  # not session.utc_now: the session module is not needed here
    chosen = prep.date_cards(picked.collection, config)  # None unless a date is set
    with open_store(picked.decks, create=False) as store:
        used = prep.paced(config, chosen, store, now)
        with DueQuery(store, picked.source, now, used) as query:
            rows, total, tomorrow = query.counts()
        readiness = prep.readiness(chosen, store, picked.collection, now, config)
    notes = []
    if total.new_waiting:
        notes.append(waiting_text(total.new_waiting, prep.new_limit_label(used, config)))
    notes.append(tomorrow_text(tomorrow))
    if readiness is not None:
        notes.append(readiness_text(readiness))
    due_table(rows, total, now, notes)


@app.command()
def show(
    key: Annotated[
        str,
        typer.Argument(
            help="The card, as DECK/CARD (DECK may be a unique prefix of its id); a cloze "
            "card's deletion as DECK/CARD#c1, a reversed card's reverse as DECK/CARD#reverse.",
            metavar="DECK/CARD",
            autocompletion=complete_card_keys,
        ),
    ],
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed",
            min=0,  # seeds drill makes are never negative, and numpy refuses them
            help="For a compute card: rebuild the exercise made with this seed.",
        ),
    ] = None,
    extra: DecksOption = None,
) -> None:
    """Show a card, its schedule and its review history (compute cards: rebuild an exercise).

    A card studied as several (a cloze card's deletions, a card and its reverse) shows each.
    """
    from drill.decks.lookup import find_cards
    from drill.ui.tables import show_card, show_exercise

    collection = load_decks(extra)
    cards = find_cards(collection, key, decks=False)
    if seed is not None:
        show_exercise(cards[0], seed)
        return
    with open_store(collection, create=False) as store:
        for card in cards:
            show_card(card, store.card(card.key), store.reviews(card.key))


@app.command()
def suspend(
    keys: Annotated[list[str], SuspendKeys],
    extra: DecksOption = None,
) -> None:
    """Keep cards out of study until they are unsuspended."""
    _set_suspended(keys, True, extra)


@app.command()
def unsuspend(
    keys: Annotated[list[str], SuspendKeys],
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
