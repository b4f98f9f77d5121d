"""Tables and card views printed by `drill show` and `drill config` (`drill due`: due_view)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from drill.model import Card, CardType
from drill.review.store import CardRecord, Review

_console = Console(highlight=False)


def _local(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else "-"


def _when(moment: datetime, since: datetime) -> str:
    """A time within a day of `since`, else a date: keeps history tables narrow."""
    local = moment.astimezone()
    return local.strftime("%H:%M") if moment - since < timedelta(days=1) else f"{local:%Y-%m-%d}"


def show_card(card: Card, record: CardRecord | None, reviews: Sequence[Review]) -> None:
    # markdown-it is slow to import; only `show` needs it (card_view brings it)
    from drill.ui.card_view import card_markdown, sides

    title = Text(f"{card.key}  [{card.type.value}]")  # Text: "[basic]" is not markup
    if card.type in (CardType.COMPUTE, CardType.CODE):
        kind = "exercise" if card.type is CardType.CODE else "generator"
        body = f"{kind}: {card.generator}\nparams: {params_text(card.params)}"
        _console.print(Panel(Text((card.q + "\n\n" if card.q else "") + body), title=title))
    else:
        question, answer = sides(card)  # cloze, choice and typed cards read as in study
        _console.print(Panel(card_markdown(question), title=title, title_align="left"))
        _console.print(Panel(card_markdown(answer), title="answer", title_align="left"))
    facts = []
    if card.tags:
        facts.append(f"tags: {', '.join(card.tags)}")
    if card.ref:
        facts.append(f"ref: {card.ref}")
    if record is None or record.reps == 0:
        facts.append("state: new" + (" (suspended)" if record and record.suspended else ""))
    else:
        flags = [f for f, on in (("suspended", record.suspended), ("leech", record.leech)) if on]
        facts.append(
            f"state: {record.state.name.lower()}{' (' + ', '.join(flags) + ')' if flags else ''}"
            f"   due: {_local(record.due)}   reviews: {record.reps}   lapses: {record.lapses}"
        )
        if record.stability is not None and record.difficulty is not None:
            facts.append(
                f"stability: {record.stability:.2f} days   difficulty: {record.difficulty:.2f}"
            )
    _console.print("\n".join(facts))
    if not reviews:
        _console.print(Text("No reviews yet.", style="dim"))
        return
    table = Table(title="history", title_justify="left", box=None, pad_edge=False)
    for name in ("when", "grade", "state", "next due", "secs"):
        table.add_column(name, no_wrap=True)
    compute = card.type in (CardType.COMPUTE, CardType.CODE)  # seeded: seed, answer, ok
    checked = card.type is CardType.CHOICE or card.type_answer is not None
    if compute:
        table.add_column("seed", no_wrap=True)  # must stay copyable for --seed
    if compute or checked:
        table.add_column("answer", overflow="fold")
        table.add_column("ok")
    for review in reviews:
        row = [
            _local(review.reviewed_at),
            review.rating.name.lower(),
            f"{review.state_before.name.lower()}→{review.state_after.name.lower()}",
            _when(review.due_after, review.reviewed_at),
            f"{review.duration_ms / 1000:.1f}" if review.duration_ms is not None else "-",
        ]
        if compute:
            row.append(str(review.seed))
        if compute or checked:
            correct = {None: "-", True: "✓", False: "✗"}[review.correct]
            row += [review.answer or "-", correct]
        table.add_row(*row)
    _console.print(table)
    if card.type is CardType.CODE:
        rerun = f"drill code check {card.generator} FILE --seed SEED"
        _console.print(Text(f"Run a past attempt's tests again with: {rerun}", "dim"))
    elif compute:
        _console.print(Text("Rebuild a past exercise with: drill show KEY --seed SEED", "dim"))


def params_text(params: Mapping[str, Any]) -> str:
    """Params as a deck file writes them (`activation: relu, loss: mse`), not a Python dict."""
    return ", ".join(f"{name}: {yaml_value(value)}" for name, value in params.items()) or "none"


def yaml_value(value: Any) -> str:
    """A value in YAML's flow style: true, 0.5, [1m, 10m], {a: 1}."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(yaml_value(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return "{" + params_text(value) + "}"
    return str(value)


def show_exercise(card: Card, seed: int) -> None:
    from drill.errors import DrillError
    from drill.exercises import make
    from drill.exercises.grading import format_value

    if card.type is not CardType.COMPUTE or not card.generator:
        raise DrillError(f"{card.key} is not a compute card; --seed applies to compute cards")
    exercise = make(card.generator, seed, card.params)
    _console.print(Panel(Text(exercise.question), title=f"{card.key}  seed {seed}"))
    _console.print(f"Answer: {format_value(exercise.answer)}")
    _console.print(Panel(Text("\n".join(exercise.solution)), title="worked solution"))


def toml_value(value: Any) -> str:
    """A setting as config.toml writes it: true, 0.9, ["1m", "10m"], "suspend"."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


def config_table(rows: Sequence[tuple[str, str, str, str]], path: str) -> None:
    table = Table(box=None, pad_edge=False)
    for name in ("setting", "value", "from", "meaning"):
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(*row)
    _console.print(table)
    _console.print(Text(f"Config file: {path}", style="dim"))
