"""`drill plan` (toward an interview date), `drill optimize`, `drill simulate` and
`drill reschedule` (your own FSRS parameters)."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer

from drill.cli.app import app
from drill.cli.common import DeckArgs, DecksOption, TagOption, load_decks, open_store
from drill.errors import DrillError

DEFAULT_RETENTIONS = (0.8, 0.85, 0.9, 0.95)

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print the figures as JSON instead of tables.")
]


class BadValue(DrillError):
    """A date, or a retention, that drill cannot plan with."""


def _parse_date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise BadValue(f"{text!r} is not a date like 2027-01-15")


@app.command()
def plan(
    decks: DeckArgs = None,
    tag: TagOption = None,
    when: Annotated[
        str | None,
        typer.Option(
            "--date", metavar="YYYY-MM-DD", help="Plan for this date (the stored one if none)."
        ),
    ] = None,
    store_date: Annotated[
        str | None,
        typer.Option(
            "--set",
            metavar="YYYY-MM-DD",
            help="Store this date (with the DECKs and tags given): study and due then work "
            "toward it.",
        ),
    ] = None,
    clear: Annotated[
        bool, typer.Option("--clear", help="Forget the stored date; scheduling goes back.")
    ] = False,
    as_json: JsonOption = False,
    extra: DecksOption = None,
) -> None:
    """Prepare for a date: predicted recall on it per deck and tag, the new cards and reviews
    a day it takes to be ready, and a day-by-day plan.

    With --set, the date is stored in config.toml: `drill study` then paces new cards by the
    plan and shortens intervals that would pass the date, and `drill due` and `drill stats`
    show the days left and the readiness.
    """
    from drill.home.config import load_config, set_settings

    config = load_config()
    if clear:
        if when or store_date:
            raise BadValue("--clear takes no date")
        was = config.interview_date
        set_settings({"interview_date": None, "interview_decks": None, "interview_tags": None})
        typer.echo(f"Forgot the interview date {was}." if was else "No interview date was set.")
        return
    if when and store_date:
        raise BadValue("give --date or --set, not both")
    day = _parse_date(store_date or when)
    collection = load_decks(extra, config)
    if day is None:
        day = config.interview_day
        if day is None:
            raise BadValue("no date: give --date YYYY-MM-DD, or store one with --set YYYY-MM-DD")
        if not decks and not tag:
            decks, tag = list(config.interview_decks), list(config.interview_tags)
    _plan(collection, config, day, decks or [], tag or [], store_date is not None, as_json)


def _plan(collection, config, day: date, decks: list, tags: list, keep: bool, as_json: bool):
    from drill.decks.selection import resolve_deck_id, select_study_cards
    from drill.home.config import set_settings
    from drill.review.planning import check_date, make_plan
    from drill.review.session import utc_now

    now = utc_now()
    check_date(now, day, config)
    deck_ids = list(dict.fromkeys(resolve_deck_id(collection, name) for name in decks))
    cards = select_study_cards(collection, deck_ids, tags)
    if keep:
        set_settings(
            {
                "interview_date": day.isoformat(),
                "interview_decks": deck_ids or None,
                "interview_tags": list(dict.fromkeys(tags)) or None,
            }
        )
    with open_store(collection) as store:
        records = store.cards()
    planned = make_plan(cards, records, now, day, config, collection.tags_of)
    if as_json:
        typer.echo(json.dumps(planned.to_dict(), indent=2))
        return
    from rich.console import Console

    from drill.ui.plan_view import render_plan

    console = Console(highlight=False)
    if keep:
        console.print(f"Stored the interview date {day.isoformat()} in the config file.")
    selection = ", ".join(deck_ids) or "every deck"
    if tags:
        selection += f"; tags {', '.join(dict.fromkeys(tags))}"
    render_plan(planned, console, selection)


@app.command()
def optimize(
    reschedule_now: Annotated[
        bool,
        typer.Option(
            "--reschedule", help="Recompute every card's memory state with the stored result."
        ),
    ] = False,
    as_json: JsonOption = False,
    extra: DecksOption = None,
) -> None:
    """Fit the 21 FSRS-6 parameters to your review log (fsrs-rs) and keep them if better.

    The defaults, the parameters in use and the fitted ones are scored on your newest reviews,
    held out of the fit (log loss and RMSE by bins). The fitted parameters go into config.toml
    only when their log loss is lower; then `drill reschedule` recomputes the cards' states.
    """
    from drill.home.config import load_config, set_settings
    from drill.review.optimizer import NotEnoughReviews, fit

    config = load_config()
    collection = load_decks(extra, config)
    count = None
    with open_store(collection) as store:
        try:
            result = fit(store, config)
        except NotEnoughReviews as short:  # not a mistake: the answer is to study more
            figures = {"items": short.have, "needed": short.need}
            typer.echo(json.dumps(figures) if as_json else f"Not yet: {short}.")
            return
        if result.better:
            set_settings({"fsrs_parameters": list(result.parameters)})
            if reschedule_now:
                count = _reschedule(store, load_config(), collection)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
        return
    from rich.console import Console

    from drill.ui.plan_view import render_fit

    render_fit(result, Console(highlight=False))
    base = "the parameters in use" if result.current else "the defaults"
    if not result.better:
        typer.echo(
            f"The fitted parameters are no better than {base} on the held-out reviews: "
            "kept the ones in use."
        )
        return
    typer.echo(
        f"The fitted parameters are better: log loss {result.improvement:.1%} lower than "
        f"{base}. Stored them in the config file (fitted again on all "
        f"{result.items:,} reviews)."
    )
    if count is not None:
        typer.echo(_rescheduled_text(count))
    else:
        typer.echo("Recompute your cards' memory states with them: drill reschedule")


@app.command()
def reschedule(extra: DecksOption = None) -> None:
    """Recompute every card's memory state and due date from its reviews, with the
    parameters in use (after `drill optimize`). The review log is not changed."""
    from drill.home.config import load_config

    config = load_config()
    collection = load_decks(extra, config)
    with open_store(collection) as store:
        count = _reschedule(store, config, collection)
    typer.echo(_rescheduled_text(count))


def _reschedule(store, config, collection) -> int:
    from drill.cli import prep
    from drill.review.optimizer import rescheduled
    from drill.review.scheduler import Scheduler

    chosen = prep.date_cards(collection, config)
    toward = None if chosen is None else {card.key for card in chosen}
    changed = rescheduled(store, Scheduler(config, toward_date=toward))
    return store.replace_states(changed)


def _rescheduled_text(count: int) -> str:
    if not count:
        return "Every card's state already matches its reviews: nothing changed."
    return f"Recomputed the memory state and due date of {count} card{'s' * (count != 1)}."


@app.command()
def simulate(
    retentions: Annotated[
        list[float] | None,
        typer.Argument(
            metavar="[RETENTION]...",
            help="More desired retentions to compare (after --retention or alone).",
            show_default=False,
        ),
    ] = None,
    retention: Annotated[
        list[float] | None,
        typer.Option(
            "--retention",
            "-r",
            help="A desired retention to simulate (0.7 to 0.99); default 0.8 0.85 0.9 0.95.",
            show_default=False,
        ),
    ] = None,
    days: Annotated[
        int, typer.Option("--days", min=1, max=3650, help="How many days to simulate.")
    ] = 365,
    cards: Annotated[
        int | None,
        typer.Option("--cards", min=1, help="Cards to learn (default: every card of your decks)."),
    ] = None,
    new_per_day: Annotated[
        int | None,
        typer.Option("--new-per-day", min=1, help="New cards a day (default: new_per_day)."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the simulation.")] = 0,
    as_json: JsonOption = False,
    extra: DecksOption = None,
) -> None:
    """Simulate studying with each desired retention (fsrs-rs): the daily workload and the
    knowledge at the end, e.g. drill simulate --retention 0.8 0.85 0.9 0.95"""
    from drill.home.config import load_config
    from drill.review.optimizer import simulate as run

    config = load_config()
    wanted = [*(retention or []), *(retentions or [])] or list(DEFAULT_RETENTIONS)
    for value in wanted:
        if not 0.7 <= value <= 0.99:
            raise BadValue(f"a desired retention must be between 0.7 and 0.99, not {value:g}")
    if cards is None:
        cards = len(load_decks(extra, config).cards()) or 1
    per_day = new_per_day or config.new_per_day or 1
    simulations = run(config, wanted, cards=cards, days=days, new_per_day=per_day, seed=seed)
    if as_json:
        typer.echo(json.dumps([sim.to_dict() for sim in simulations], indent=2))
        return
    from rich.console import Console

    from drill.ui.plan_view import render_simulations

    console = Console(highlight=False)
    render_simulations(simulations, console)
    console.print(f"{cards} cards, {per_day} new a day, at most {config.reviews_per_day} reviews.")
