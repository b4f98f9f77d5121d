"""Exercise generators: a fresh numeric question on every review.

The registry, and the generator modules behind it, load when one of its names is first
used: commands that only need the Difficulty choices (`drill --help` builds every
command's options) do without them (benchmarks/README.md).

Also here: `grading` (parse and check typed answers) and `worksheet` (many exercises
from one seed, as text, Markdown or JSON); `code`, the implement-it-in-NumPy exercises of
code cards, run in a process of their own and graded on seeded tests.

May import: `engine`, `model`, `errors`; numpy.
Must not import: `decks`, `review`, `exchange`, `cli`, `ui`, rich or typer.
"""

from typing import TYPE_CHECKING, Any

from drill.exercises.base import Difficulty, Exercise, Tolerance

if TYPE_CHECKING:
    from drill.exercises.registry import GENERATORS, make, names

__all__ = ["GENERATORS", "Difficulty", "Exercise", "Tolerance", "make", "names"]


def __getattr__(name: str) -> Any:
    if name in ("GENERATORS", "make", "names"):
        from drill.exercises import registry

        return getattr(registry, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
