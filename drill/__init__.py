"""drill: spaced-repetition drills for machine-learning interviews.

The public API is small on purpose: decks in, due cards out, reviews recorded.
Heavy modules (numpy, fsrs) load only when the names that need them are used.
"""

from drill.errors import DrillError
from drill.model import Card, CardType, Deck, Rating

__version__ = "0.1.0"

__all__ = ["Card", "CardType", "Deck", "DrillError", "Rating", "__version__"]
