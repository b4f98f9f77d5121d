"""`drill stats` (progress at a glance) and `drill interview` (a timed mock interview)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from drill.cli.app import app
from drill.cli.common import DeckArgs, DecksOption, TagOption, load_decks, open_store

DEFAULT_COUNT = 6
BUDGET_COUNT = 50  # with --minutes and no --count: questions until the time is up


@app.command()
def stats(
    decks: DeckArgs = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the figures as JSON instead of tables.")
    ] = False,
    extra: DecksOption = None,
) -> None:
    """Progress: cards by state, true retention, streak, a 30-day forecast, a year of reviews,
    the hardest cards, leeches, and compute accuracy per generator."""
    import sys
    from contextlib import nullcontext
    from dataclasses import replace

    from rich.console import Console

    from drill.cli import prep
    from drill.home.config import load_config
    from drill.review.queue import utc_now
    from drill.review.stats import collect

    config = load_config()
    now = utc_now()
    # Large collections take a moment. The spinner goes to stderr, so --json output stays
    # clean, and only to a terminal: a script's stderr gets no spinner (nor its import).
    spinner = Console(stderr=True).status("Counting…") if sys.stderr.isatty() else nullcontext()
    with spinner:
        picked = prep.choose(extra, config, decks or (), (), whole=False)
        with open_store(picked.decks, create=False) as store:
            renamed = picked.decks.renames()
            source, ids = picked.source, picked.deck_ids
            figures = collect(store, source, now, config.rollover_hour, ids, renamed)
            # Toward a stored interview date:
            chosen = prep.date_cards(picked.collection, config)
            readiness = prep.readiness(chosen, store, picked.collection, now, config)
    if readiness is not None:
        figures = replace(figures, interview=readiness)
    if as_json:
        typer.echo(json.dumps(figures.to_dict(), indent=2))
        return
    from drill.ui.stats_view import render_stats

    render_stats(figures, Console(highlight=False))


@app.command()
def interview(
    decks: DeckArgs = None,
    tag: TagOption = None,
    minutes: Annotated[
        float | None,
        typer.Option(
            "--minutes",
            "-m",
            min=0.1,
            help="Time budget for the whole interview; it ends when the time is up.",
            show_default=False,
        ),
    ] = None,
    count: Annotated[
        int | None,
        typer.Option(
            "--count",
            "-n",
            min=1,
            help=f"Questions to ask (default {DEFAULT_COUNT}; with --minutes: until time is up).",
            show_default=False,
        ),
    ] = None,
    record: Annotated[
        bool,
        typer.Option("--record", help="Record each answer as a review, updating the schedule."),
    ] = False,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed", help="Seed for the draw and the exercises: the same interview again."
        ),
    ] = None,
    extra: DecksOption = None,
) -> None:
    """A timed mock interview: cards tagged `interview` and fresh compute exercises, mixed.

    Type each answer (a compute answer is graded; for a question, compare with the model
    answer and score yourself 1-4, or y/n). `q` alone quits. The report gives the score,
    the time per question, the weakest decks and tags, and what to study next. Nothing is
    recorded without --record. Piped input gives one line per step, as in `drill study`.
    """
    import random

    from rich.console import Console

    from drill.decks.selection import select_cards
    from drill.errors import DrillError
    from drill.interview import Interview, exercise_for, pick_questions
    from drill.ui.interview_view import InterviewScreen, render_report
    from drill.ui.keys import Keys

    console = Console(highlight=False)
    # Deck loading, numpy and the generators can take a moment on a cold start.
    with console.status("Preparing the interview…"):
        collection = load_decks(extra)
        cards = select_cards(collection, decks or (), tag or ())
        wanted = count or (BUDGET_COUNT if minutes else DEFAULT_COUNT)
        questions = pick_questions(cards, collection.tags_of, wanted, random.Random(seed))
        if not questions:
            raise DrillError(
                "no interview questions here: tag basic cards `interview`, or add compute cards"
            )
        exercises = {q.number: exercise_for(q) for q in questions if q.is_compute}
    budget = minutes * 60 if minutes else None
    with _recording(record, collection, [q.card for q in questions]) as session:
        until_up = minutes is not None and count is None  # "1 of 50" would mean nothing
        mock = Interview(
            questions, budget_seconds=budget, session=session, until_time_is_up=until_up
        )
        report = InterviewScreen(mock, console, Keys(), exercises).run()
    render_report(report, console)


@contextmanager
def _recording(record: bool, collection, cards: list) -> Iterator:
    """A study Session over the interview's cards with --record; otherwise None, and the
    database is not even opened."""
    if not record:
        yield None
        return
    from drill.home.config import load_config
    from drill.review.session import Session

    with open_store(collection) as store:
        store.check_writable()  # said before the first question, not after an answer
        yield Session(store, cards, load_config())
