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
    return indented_json(records) + "\n"


# -- JSON with an indent, at the C encoder's speed --------------------------------------
# With an indent, json.dumps leaves its C encoder for a pure-Python one: for a worksheet of
# a thousand exercises that was a twentieth of `drill gen`'s time. This writes the same
# text, byte for byte (tests compare the two), from the C encoder's string quoting and
# float.__repr__; values of any other type go to json.dumps itself.

_quoted = json.encoder.encode_basestring  # ensure_ascii=False's quoting (in C when it can)
_INDENT = "  "
_INFINITY = float("inf")


def indented_json(value: object) -> str:
    """json.dumps(value, indent=2, ensure_ascii=False), written faster."""
    return _json_text(value, "\n")


def _json_text(value: object, newline: str) -> str:
    """`value` as JSON; `newline` starts a line at its depth."""
    kind = type(value)
    if kind is str:
        return _quoted(value)
    if kind is float:
        return _float_text(value)
    if kind is dict:
        return _dict_text(value, newline)
    if kind is list or kind is tuple:
        return _list_text(value, newline)
    if value is None or value is True or value is False:
        return "null" if value is None else "true" if value else "false"
    if kind is int:
        return int.__repr__(value)
    return _json_module_text(value, newline)  # an enum's member, a NumPy float, or an error


def _json_module_text(value: object, newline: str) -> str:
    """json.dumps's own text for `value`, indented to its depth (a string never holds a
    raw line break: json escapes it)."""
    return json.dumps(value, indent=2, ensure_ascii=False).replace("\n", newline)


def _float_text(x: float) -> str:
    if x != x or x in (_INFINITY, -_INFINITY):
        return "NaN" if x != x else "Infinity" if x > 0 else "-Infinity"
    return float.__repr__(x)


def _list_text(items: list | tuple, newline: str) -> str:
    if not items:
        return "[]"
    inner = newline + _INDENT
    first = type(items[0])
    # A list of plain strings or finite floats (a solution's lines, a vector) in one join;
    # "n" appears in a float's repr only as nan or inf, which json spells otherwise.
    if first is str or first is float:
        try:
            text = ("," + inner).join(map(_quoted if first is str else float.__repr__, items))
        except TypeError:  # some other item is of another type: one at a time, below
            pass
        else:
            if first is str or "n" not in text:
                return "[" + inner + text + newline + "]"
    return "[" + inner + ("," + inner).join([_json_text(v, inner) for v in items]) + newline + "]"


def _dict_text(mapping: dict, newline: str) -> str:
    if not mapping:
        return "{}"
    inner = newline + _INDENT
    fields = []
    for key, item in mapping.items():
        if type(key) is not str:  # json turns numbers, booleans and None into keys
            return _json_module_text(mapping, newline)
        shown = _quoted(item) if type(item) is str else _json_text(item, inner)
        fields.append(_quoted(key) + ": " + shown)
    return "{" + inner + ("," + inner).join(fields) + newline + "}"


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
