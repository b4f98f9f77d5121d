"""Options shared by several commands, and small output helpers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

DecksOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--decks",
        metavar="PATH",
        help="Extra folder or file of YAML decks (repeatable). DRILL_DECKS works too.",
        show_default=False,
    ),
]


# Shell completion (`drill --install-completion SHELL`). These run only when a shell asks
# for completions, never at an ordinary start-up; they stay quiet about broken deck files.


def _known_decks():
    from drill.decks.loader import load_collection
    from drill.errors import DrillError
    from drill.home.config import load_config

    try:
        return load_collection(max_bytes=load_config().max_deck_bytes).decks
    except DrillError:
        return []


def complete_deck_ids(incomplete: str) -> list[str]:
    return [deck.id for deck in _known_decks() if deck.id.startswith(incomplete)]


def complete_card_keys(incomplete: str) -> list[str]:
    """Card keys (deck/card); bash and zsh fill in the common deck prefix first."""
    return [
        card.key
        for deck in _known_decks()
        if deck.id.startswith(incomplete.partition("/")[0])
        for card in deck.cards
        if card.key.startswith(incomplete)
    ]


def complete_tags(incomplete: str) -> list[str]:
    tags = {
        tag for deck in _known_decks() for card in deck.cards for tag in (*deck.tags, *card.tags)
    }
    return sorted(tag for tag in tags if tag.startswith(incomplete))


def complete_generators(incomplete: str) -> list[str]:
    from drill.exercises.registry import GENERATORS

    return [name for name in GENERATORS if name.startswith(incomplete)]


DeckArgs = Annotated[
    list[str] | None,
    typer.Argument(
        help="Deck ids (or unique prefixes); all decks when none.",
        metavar="DECK",
        show_default=False,
        autocompletion=complete_deck_ids,
    ),
]
TagOption = Annotated[
    list[str] | None,
    typer.Option(
        "--tag",
        "-t",
        metavar="TAG",
        help="Only cards with this tag; repeated, cards with any of the tags.",
        show_default=False,
        autocompletion=complete_tags,
    ),
]


def warn(message: str) -> None:
    """One line on stderr, for problems that do not stop the command."""
    print(f"Warning: {message}", file=sys.stderr)


def load_decks(extra: list[Path] | None, config=None):
    """Every deck drill knows; a bad deck file is a one-line warning, never a stop.

    Pass the command's `config` when it has one, so the config file is read once.
    """
    from drill.decks.loader import load_collection
    from drill.home.config import load_config

    config = config or load_config()
    collection = load_collection(extra or (), max_bytes=config.max_deck_bytes)
    for line in collection.warnings():
        warn(line)
    return collection


def open_store(collection, *, create: bool = True):
    """The user's database, with history carried over to cards renamed with `was:`.

    This is where decks meet the store: a rename is linked the first time a command that
    reads both sees it (see Store.follow_renames). Commands that only read pass
    `create=False`: in a home without a database they read an empty one in memory and
    leave the home as it was.
    """
    from drill.review.store import Store

    store = Store.open(create=create)
    try:
        store.follow_renames(collection.renames())
    except BaseException:
        store.close()
        raise
    return store
