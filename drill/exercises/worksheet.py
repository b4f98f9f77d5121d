"""Worksheets: many exercises from one seed, written as plain text, Markdown or JSON.

Each exercise gets its own seed, derived from the worksheet's seed, the generator's name
and the exercise's position among that generator's exercises. So the same arguments
always give the same worksheet, byte for byte, and adding a generator to the list does
not change the exercises the others get.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from drill.exercises.base import Difficulty, Exercise

# The registry, grading and hashlib are imported where they are used: `drill gen`'s options
# need only this module's Format, and `drill --help` builds every command's options.


class Format(StrEnum):
    TEXT = "text"
    MD = "md"
    JSON = "json"


@dataclass(frozen=True)
class Worksheet:
    seed: int
    difficulty: Difficulty
    exercises: tuple[Exercise, ...]


def exercise_seed(seed: int, name: str, position: int) -> int:
    """The seed of exercise `position` of generator `name` on the worksheet `seed`.

    A hash rather than `seed + position`, so neighbouring worksheet seeds share no
    exercises; 32 bits keeps it short enough to read and to type back into `drill show`.
    """
    import hashlib

    digest = hashlib.blake2b(f"{seed}/{name}/{position}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big")


def plan(names: Iterable[str], count: int, seed: int) -> list[tuple[str, int]]:
    """(generator, exercise seed) for each exercise, generator by generator, in order.

    Unknown names fail here, before any work, with a did-you-mean; repeats are dropped.
    """
    if count < 1:
        raise ValueError(f"a worksheet needs at least one exercise per generator, not {count}")
    from drill.exercises import registry

    chosen = list(dict.fromkeys(names)) or registry.names()
    for name in chosen:
        registry.info(name)
    return [(name, exercise_seed(seed, name, i)) for name in chosen for i in range(count)]


def build(
    names: Iterable[str],
    count: int,
    seed: int,
    difficulty: Difficulty,
    on_progress: Callable[[], None] | None = None,
) -> Worksheet:
    """Make `count` exercises of each generator (every generator when `names` is empty)."""
    from drill.exercises import registry

    exercises = []
    for name, own_seed in plan(names, count, seed):
        exercises.append(registry.make(name, own_seed, difficulty=difficulty))
        if on_progress is not None:
            on_progress()
    return Worksheet(seed, difficulty, tuple(exercises))


def render(sheet: Worksheet, fmt: Format, answers: bool = True, steps: bool = False) -> str:
    """The worksheet as text: questions first, then (if `answers`) the answer key.

    With `steps`, an exercise that has guided steps lists them: by name under its
    question, and with their values and rules in the answer key (in JSON: `steps`).
    """
    if fmt is Format.JSON:
        return render_json(sheet.exercises, answers, steps)
    if fmt is Format.MD:
        return render_markdown(sheet, answers, steps)
    return render_text(sheet, answers, steps)


def render_json(exercises: Sequence[Exercise], answers: bool = True, steps: bool = False) -> str:
    """A JSON array of the exercise contract; without answers, no `answer` or `solution`
    (and each step keeps only its name)."""
    records = [exercise.to_dict(steps=steps) for exercise in exercises]
    if not answers:
        for record in records:
            del record["answer"], record["solution"]
            if "steps" in record:
                record["steps"] = [{"name": step["name"]} for step in record["steps"]]
    return json.dumps(records, indent=2, ensure_ascii=False) + "\n"


def _step_names(exercise: Exercise) -> str:
    """ "Steps: z1, h1, z2, ∂L/∂z2, …": the order to work the exercise in."""
    return "Steps: " + ", ".join(step.name for step in exercise.steps) + "."


def _step_lines(exercise: Exercise) -> list[str]:
    """Each step with its rule and value, numbered, for the answer key."""
    from drill.exercises.grading import format_value

    lines = ["Steps:"]
    for number, step in enumerate(exercise.steps, 1):
        rule = f" = {step.rule}" if step.rule else ""
        lines.append(f"  {number}. {step.name}{rule} = {format_value(step.value)}")
    return lines


def _summary(sheet: Worksheet) -> str:
    count = len(sheet.exercises)
    noun = "exercise" if count == 1 else "exercises"
    return f"seed {sheet.seed}, difficulty {sheet.difficulty.value}, {count} {noun}"


def _answer_text(exercise: Exercise) -> str:
    from drill.exercises.grading import format_value

    return format_value(exercise.answer)


def render_text(sheet: Worksheet, answers: bool = True, steps: bool = False) -> str:
    lines = [f"Worksheet ({_summary(sheet)})", ""]
    for number, exercise in enumerate(sheet.exercises, 1):
        lines.append(f"{number}. [{exercise.generator}]")
        lines.extend(_indent(exercise.question.splitlines()))
        if steps and exercise.steps:
            lines.extend(_indent([_step_names(exercise)]))
        lines.append("")
    if answers:
        lines += ["Answers", ""]
        for number, exercise in enumerate(sheet.exercises, 1):
            lines.append(f"{number}. {_answer_text(exercise)}")
            if steps and exercise.steps:
                lines.extend(_indent(_step_lines(exercise)))
            lines.extend(_indent(exercise.solution))
            lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def _indent(lines: Iterable[str], prefix: str = "   ") -> list[str]:
    return [prefix + line if line.strip() else "" for line in lines]


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


# A line starting like a list item ("1. conv", "- x") would start a list mid-paragraph.
_MD_LIST_START = re.compile(r"^(\d+)([.)])|^([-+])(?=\s)")


def _escape_list_start(match: re.Match[str]) -> str:
    number, mark, bullet = match.groups()
    return f"{number}\\{mark}" if number else f"\\{bullet}"


def _md_escape(text: str) -> str:
    """Text shown as itself in Markdown: specials escaped, each line break kept."""
    lines = []
    for line in text.splitlines():
        line = _MD_SPECIAL.sub(r"\\\1", line.strip())
        lines.append(_MD_LIST_START.sub(_escape_list_start, line))
    return "\\\n".join(line for line in lines if line)


def render_markdown(sheet: Worksheet, answers: bool = True, steps: bool = False) -> str:
    lines = ["# Worksheet", "", _summary(sheet).capitalize() + ".", ""]
    for number, exercise in enumerate(sheet.exercises, 1):
        lines += [f"## {number}. {exercise.generator}", "", _md_escape(exercise.question), ""]
        if steps and exercise.steps:
            lines += [_md_escape(_step_names(exercise)), ""]
    if answers:
        lines += ["## Answers", ""]
        for number, exercise in enumerate(sheet.exercises, 1):
            lines += [f"### {number}. `{_answer_text(exercise)}`", ""]
            if steps and exercise.steps:
                lines += ["```text", *_step_lines(exercise), "```", ""]
            if exercise.solution:
                lines += ["```text", *exercise.solution, "```", ""]
    return "\n".join(lines).rstrip("\n") + "\n"
