"""Which deck file `drill decks remove ID` may delete: only one in the user's decks folder.

Built-in decks ship with drill (suspend their cards instead), and a deck read from a
DRILL_DECKS or --decks folder is the user's own file elsewhere, perhaps under version
control: drill deletes neither. A removed deck's review history stays in the database
unless it is purged (see Store.forget_deck), so re-importing the deck brings it back.
"""

from __future__ import annotations

from pathlib import Path

from drill.decks.loader import Collection
from drill.errors import DrillError
from drill.home.paths import builtin_decks_dir


class NotRemovable(DrillError):
    """drill does not delete this deck's file."""


def deck_file_to_remove(collection: Collection, deck_id: str, user_decks: Path) -> Path:
    """The file of deck `deck_id` (its exact id), if it lives in `user_decks`."""
    deck = collection.deck(deck_id)  # UnknownDeck with a did-you-mean
    path = deck.path
    if path is None:
        raise NotRemovable(f"deck {deck_id!r} has no file")
    if _inside(path, builtin_decks_dir()):
        raise NotRemovable(
            f"{deck_id!r} is a built-in deck; keep its cards out of study with: "
            f"drill suspend {deck_id}"
        )
    if not _inside(path, user_decks):
        raise NotRemovable(
            f"deck {deck_id!r} is read from {path}, outside drill's decks folder "
            f"({user_decks}); delete or move that file yourself"
        )
    return path


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().parent == folder.resolve()
