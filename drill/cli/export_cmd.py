"""`drill export`, `drill import` and `drill log export`: decks and history in and out."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from drill.cli.app import app
from drill.cli.common import DeckArgs, DecksOption, load_decks, warn
from drill.errors import DrillError
from drill.exchange.export import (
    DEFAULT_INSTANCES,
    Format,
    collector_off,
    format_for,
    render,
    total_steps,
)
from drill.exchange.revlog import LogFormat

if TYPE_CHECKING:
    from drill.model import Deck

STDOUT = Path("-")

log_app = typer.Typer(help="The review history.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(log_app, name="log")

ForceOption = Annotated[
    bool, typer.Option("--force", help="Overwrite the output file if it exists.")
]


@app.command()
def export(
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="File to write; '-' writes text formats to standard output."
        ),
    ],
    decks: DeckArgs = None,
    fmt: Annotated[
        Format | None,
        typer.Option(
            "--format", "-f", help="apkg, csv, tsv, md or json. Default: from the file name."
        ),
    ] = None,
    instances: Annotated[
        int,
        typer.Option("--instances", min=0, help="Generated exercises per compute card."),
    ] = DEFAULT_INSTANCES,
    seed: Annotated[
        int | None,
        typer.Option("--seed", help="Seed of the generated exercises, to make them again."),
    ] = None,
    force: ForceOption = False,
    extra: DecksOption = None,
) -> None:
    """Export decks to Anki (.apkg), Anki-style CSV/TSV, a Markdown study sheet, or JSON."""
    with collector_off():  # a deck's cards hold no cycles: see collector_off
        chosen = _chosen_decks(decks or [], extra)
    fmt = fmt or _format_of(output)
    if output == STDOUT and fmt.binary:
        raise DrillError(f"{fmt} is binary; write it to a file with -o FILE.{fmt}")
    if output != STDOUT:
        _refuse_existing(output, force)  # before the work, not after it
    if seed is None:
        import secrets

        seed = secrets.randbelow(2**31)
    with _progress(total_steps(chosen, fmt, instances), "Exporting") as tick:
        rendered = render(chosen, fmt, instances=instances, seed=seed, tick=tick)
    _write(output, rendered.content, force)
    decks_text = _count(len(chosen), "deck")
    if fmt is Format.JSON:
        cards = sum(len(deck.cards) for deck in chosen)
        summary = f"Wrote {decks_text} ({_count(cards, 'card')}) to {_where(output)}"
    else:
        noun = "card" if fmt is Format.MD else "note"
        summary = f"Wrote {_count(rendered.notes, noun)} from {decks_text} to {_where(output)}"
        if instances > 0 and _has_compute(chosen):
            summary += f" (exercises from --seed {seed})"
    _report(output, summary + ".")


@app.command("import")
def import_file(
    file: Annotated[
        Path,
        typer.Argument(
            help="A .json file from drill export, or an Anki-style .csv/.tsv/.txt file "
            "(front, back, optional tags).",
            show_default=False,
        ),
    ],
    deck_id: Annotated[
        str | None,
        typer.Option("--id", help="Id of the new deck. Default: from the file name."),
    ] = None,
    title: Annotated[str | None, typer.Option("--title", help="Title of the new deck.")] = None,
    header: Annotated[
        bool | None,
        typer.Option(
            "--header/--no-header",
            help="Whether a CSV/TSV file's first row names the columns (Front,Back). "
            "Default: it does if it reads so.",
            show_default=False,
        ),
    ] = None,
    skip_existing: Annotated[
        bool,
        typer.Option(
            "--skip-existing",
            help="Leave out the decks drill already has (a JSON export of every deck, say).",
        ),
    ] = False,
    extra: DecksOption = None,
) -> None:
    """Import decks into your decks folder as YAML; nothing is written if any row is bad."""
    from drill.exchange.importer import existing, import_decks, read_file
    from drill.home.config import load_config
    from drill.home.paths import get_paths

    config = load_config()
    read = read_file(file, deck_id, title, config.max_deck_bytes, header)
    if read.header:
        shown = ",".join(read.header)
        typer.echo(f"Read the first row ({shown}) as column names; --no-header takes it as a card.")
    known = {deck.id for deck in load_decks(extra, config).decks}
    folder = get_paths().user_decks
    decks = read.decks
    if skip_existing:
        skipped = existing(decks, folder, known)
        decks = [deck for deck in decks if deck not in skipped]
        if skipped:
            typer.echo(f"Skipped {_count(len(skipped), 'deck')} drill has: {_ids(skipped)}")
        if not decks:
            typer.echo(f"Nothing to import: drill has every deck in {file} already.")
            return
    for deck in import_decks(decks, folder, known, file, config.max_deck_bytes):
        typer.echo(f"Imported {_count(len(deck.cards), 'card')} as deck {deck.id!r}: {deck.path}")


def _ids(decks: list[Deck], shown: int = 5) -> str:
    ids = ", ".join(deck.id for deck in decks[:shown])
    return ids + (f" and {len(decks) - shown} more" if len(decks) > shown else "")


@log_app.command("export")
def log_export(
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="File to write. Default: standard output."),
    ] = STDOUT,
    fmt: Annotated[
        LogFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="csv (the FSRS optimizers' revlog layout) or jsonl (every field). "
            "Default: from the file name, else csv.",
        ),
    ] = None,
    force: ForceOption = False,
    extra: DecksOption = None,
) -> None:
    """Export the whole review history, to fit FSRS parameters with other tools, say."""
    from drill.exchange.revlog import write_log
    from drill.review.store import Store

    fmt = fmt or (LogFormat.JSONL if output.suffix.lower() == ".jsonl" else LogFormat.CSV)
    if output != STDOUT:
        _refuse_existing(output, force)
    renames = _renamed_cards(extra)
    with Store.open() as store, _text_output(output, force) as write:
        rows = write_log(store, fmt, write, renames)  # streamed: memory stays flat
    _report(output, f"Wrote {_count(rows, 'review')} to {_where(output)}.")


def _renamed_cards(extra: list[Path] | None) -> dict[str, str]:
    """Old key -> current key of the cards renamed with `was:`. From the study index: a
    deck the parse cache holds is read by its header alone, where reading its cards back
    took 1.2 s at 100,000 cards, and holding them 140 MiB."""
    from drill.decks.index import load_index
    from drill.home.config import load_config

    index = load_index(extra or (), load_config().max_deck_bytes)
    for line in index.warnings():
        warn(line)
    return index.renames()


def _chosen_decks(names: list[str], extra: list[Path] | None) -> list[Deck]:
    """The decks named (ids or unique prefixes), each once; every deck when none is named."""
    from drill.decks.selection import resolve_deck_id

    collection = load_decks(extra)
    ids = dict.fromkeys(resolve_deck_id(collection, name) for name in names)
    chosen = [collection.deck(deck_id) for deck_id in ids] if ids else collection.decks
    if not chosen:
        raise DrillError("no decks to export; see drill decks")
    return chosen


def _has_compute(decks: list[Deck]) -> bool:
    from drill.model import CardType

    return any(card.type is CardType.COMPUTE for deck in decks for card in deck.cards)


def _format_of(output: Path) -> Format:
    if output == STDOUT:
        raise DrillError("writing to standard output needs --format")
    return format_for(output)


def _write(output: Path, content: str | bytes, force: bool) -> None:
    if output == STDOUT:
        sys.stdout.write(content if isinstance(content, str) else content.decode())
        sys.stdout.flush()
    else:
        from drill.home.fileio import atomic_write

        atomic_write(output, content, force=force)


@contextlib.contextmanager
def _text_output(output: Path, force: bool) -> Iterator[Callable[[str], object]]:
    """A function writing text to `output` as it comes: standard output, or a file that
    takes its name only once the block ends without an error (atomic, like _write)."""
    if output == STDOUT:
        yield sys.stdout.write
        sys.stdout.flush()
        return
    from drill.home.fileio import atomic_writer

    with atomic_writer(output, force=force) as out:
        yield lambda text: out.write(text.encode("utf-8"))


def _refuse_existing(output: Path, force: bool) -> None:
    # fileio is imported when a file is written: `drill --help` imports this module too.
    from drill.home.fileio import refuse_existing

    refuse_existing(output, force=force)


def _report(output: Path, message: str) -> None:
    """The closing line; on stderr when stdout carries the export itself."""
    print(message, file=sys.stderr if output == STDOUT else sys.stdout)


def _where(output: Path) -> str:
    return "standard output" if output == STDOUT else str(output)


@contextlib.contextmanager
def _progress(total: int, label: str) -> Iterator[Callable[[], None] | None]:
    """A progress bar on stderr, only when stderr is a terminal; yields its advance function."""
    if total <= 0 or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda: progress.advance(task)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
