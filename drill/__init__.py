"""drill: spaced-repetition drills for machine-learning interviews.

The public API is small on purpose: decks in, due cards out, reviews recorded.
Heavy modules (numpy, fsrs) load only when the names that need them are used; so do the
model's names here, since `drill --help` needs none of them (benchmarks/README.md).
"""

from typing import TYPE_CHECKING, Any

from drill.errors import DrillError

if TYPE_CHECKING:
    from drill.model import Card, CardType, Deck, Rating

__version__ = "0.1.0"

__all__ = ["Card", "CardType", "Deck", "DrillError", "Rating", "__version__"]


def __getattr__(name: str) -> Any:
    if name in ("Card", "CardType", "Deck", "Rating"):
        from drill import model

        return getattr(model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
