"""`drill stats` (progress at a glance) and `drill interview` (a timed mock interview)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from drill.cli.app import app
from drill.cli.common import DecksOption, load_decks

StatsDecks = Annotated[
    list[str] | None,
    typer.Argument(help="Deck ids (or unique prefixes); all decks when none.", show_default=False),
]


@app.command()
def stats(
    decks: StatsDecks = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the figures as JSON instead of tables.")
    ] = False,
    extra: DecksOption = None,
) -> None:
    """Progress: cards by state, true retention, streak, a 30-day forecast, a year of reviews,
    the hardest cards, leeches, and compute accuracy per generator."""
    from rich.console import Console

    from drill.config import load_config
    from drill.selection import resolve_deck_id
    from drill.session import utc_now
    from drill.stats import collect
    from drill.store import Store

    collection = load_decks(extra)
    deck_ids = [resolve_deck_id(collection, name) for name in decks or ()]
    cards = collection.cards(deck_ids)
    config = load_config()
    now = utc_now()
    # The spinner goes to stderr, so `--json` output stays clean.
    with Console(stderr=True).status("Reading the review log…"), Store.open() as store:
        renamed = collection.renames()
        figures = collect(store, cards, now, config.rollover_hour, deck_ids, renamed)
    if as_json:
        typer.echo(json.dumps(figures.to_dict(), indent=2))
        return
    from drill.ui.stats_view import render_stats

    render_stats(figures, Console(highlight=False))
