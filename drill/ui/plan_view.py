"""What `drill plan`, `drill optimize` and `drill simulate` print: rich tables."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from drill.review.optimizer import Fit, Simulation
from drill.review.planning import Group, Plan
from drill.review.scheduler import PREP_DAYS

TAGS_SHOWN = 12  # the weakest tags on screen; --json lists them all


def render_plan(plan: Plan, console: Console, selection: str) -> None:
    ready = plan.readiness
    left = ready.days_left
    title = Text(f"Plan for {ready.day:%a %d %b %Y}", style="bold")
    title.append(
        f": {left} day{'s' * (left != 1)} left, {ready.cards} card{'s' * (ready.cards != 1)}"
        f" ({selection}), target retention {plan.target_retention:.0%}"
    )
    console.print(title)
    console.print()
    console.print(Text("Predicted recall on the date as things stand, weakest first", "bold"))
    console.print(_groups_table("deck", ready.decks))
    if ready.tags:
        console.print(_groups_table("tag", ready.tags[:TAGS_SHOWN]))
        if len(ready.tags) > TAGS_SHOWN:
            more = len(ready.tags) - TAGS_SHOWN
            console.print(Text(f"… and {more} more tags (--json lists them all)", "dim"))
    console.print(Text(f"All of them: {ready.recall:.0%}", style="bold"))
    console.print()
    console.print(_ready_line(plan))
    console.print(
        f"Following the plan, predicted recall on the date: {plan.recall_after:.0%} on average,"
        f" lowest {plan.lowest_after:.0%}."
    )
    console.print(
        Text(
            "Assumes each answer is good, plus the relearning a failed review would take; "
            f"reviews that would fall after the date come in its last {PREP_DAYS} days.",
            "dim",
        )
    )
    console.print()
    console.print(Text("Day by day", style="bold"))
    console.print(_days_table(plan))


def _ready_line(plan: Plan) -> str:
    new = plan.new_per_day
    reviews = round(plan.reviews_per_day)
    cards = f"{new} new card{'s' * (new != 1)} a day and " if new else ""
    return (
        f"To be ready: {cards}about {reviews} review{'s' * (reviews != 1)} a day "
        f"(at most {round(plan.peak_reviews)})."
    )


def _groups_table(kind: str, groups: Sequence[Group]) -> Table:
    table = Table(box=None, pad_edge=False)
    table.add_column(kind)
    for name in ("cards", "new", "recall"):
        table.add_column(name, justify="right")
    for group in groups:
        table.add_row(group.name, str(group.cards), str(group.new), f"{group.recall:.0%}")
    return table


def _days_table(plan: Plan) -> Table:
    table = Table(box=None, pad_edge=False)
    table.add_column("date")
    table.add_column("new", justify="right")
    table.add_column("reviews", justify="right")
    for day in plan.days:
        table.add_row(f"{day.day:%a %d %b}", str(day.new), str(round(day.reviews)))
    return table


def render_fit(fit: Fit, console: Console) -> None:
    console.print(
        f"Fitted FSRS-6 to {fit.items - fit.held_out:,} reviews and scored it on the newest "
        f"{fit.held_out:,} (held out; {fit.items:,} in all)."
    )
    table = Table(box=None, pad_edge=False)
    table.add_column("parameters")
    table.add_column("log loss", justify="right")
    table.add_column("RMSE (bins)", justify="right")
    rows = [("defaults", fit.default)]
    if fit.current:
        rows.append(("in use", fit.current))
    rows.append(("fitted", fit.fitted))
    for name, metrics in rows:
        table.add_row(name, f"{metrics.log_loss:.4f}", f"{metrics.rmse_bins:.2%}")
    console.print(table)


def render_simulations(simulations: Sequence[Simulation], console: Console) -> None:
    first = simulations[0]
    console.print(
        Text(f"Simulated {first.days} days of study from scratch (fsrs-rs), per retention", "bold")
    )
    table = Table(box=None, pad_edge=False)
    table.add_column("retention")
    for name in ("answers/day", "peak", "minutes/day", "known at the end", "known per hour"):
        table.add_column(name, justify="right")
    for sim in simulations:
        table.add_row(
            f"{sim.retention:g}",
            f"{sim.reviews_per_day:.0f}",
            str(sim.peak_reviews),
            f"{sim.minutes_per_day:.0f}",
            f"{sim.memorized:.0f}",
            f"{sim.memorized_per_hour:.1f}",
        )
    console.print(table)
    console.print(
        Text(
            "Known: the sum of every card's probability of recall on the last day. "
            "Answer times are fsrs-rs's defaults.",
            "dim",
        )
    )
