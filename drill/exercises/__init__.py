"""Exercise generators: a fresh numeric question on every review."""

from drill.exercises.base import Difficulty, Exercise, Tolerance
from drill.exercises.registry import GENERATORS, make, names

__all__ = ["GENERATORS", "Difficulty", "Exercise", "Tolerance", "make", "names"]
