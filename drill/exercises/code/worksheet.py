"""Code exercises as a Markdown worksheet: each task with its stub, then the reference
solutions as the answer key."""

from __future__ import annotations

from collections.abc import Iterable

from drill.exercises.code import registry


def render(names: Iterable[str] = (), *, answers: bool = True) -> str:
    """The worksheet of the named exercises (all of them when none), in Markdown.

    Unknown names fail before any work, with a did-you-mean; repeats are dropped.
    """
    chosen = list(dict.fromkeys(names)) or registry.names()
    for name in chosen:
        registry.info(name)
    exercises = [registry.load(name) for name in chosen]
    parts = [
        "# Code worksheet",
        "Implement each function in NumPy, in a file of its own. "
        "`drill code check NAME FILE` grades a file on fresh random tests.",
    ]
    for number, exercise in enumerate(exercises, 1):
        parts.append(f"## {number}. {exercise.title} (`{exercise.name}`)")
        parts.append(exercise.task.strip())
        parts.append(_fenced(exercise.stub))
    if answers:
        parts.append("# Answer key")
        for number, exercise in enumerate(exercises, 1):
            parts.append(f"## {number}. {exercise.title} (`{exercise.name}`)")
            parts.append(_fenced(exercise.reference))
    return "\n\n".join(parts) + "\n"


def _fenced(source: str) -> str:
    fence = "```"
    while fence in source:
        fence += "`"
    return f"{fence}python\n{source.strip()}\n{fence}"
