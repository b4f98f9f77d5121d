"""Every generator's JSON follows docs/exercise-json.md, the written contract.

The test reads the page itself: its per-generator sections give the keys `spec`, `inputs`
and `asked` may have, so a generator that changes its JSON without the page (or the page
without the generator) fails here.
"""

from __future__ import annotations

import json
import math
import re
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from drill.exercises import Difficulty, Exercise, registry
from drill.exercises.grading import check, close
from drill.exercises.worksheet import render_json

DOC = Path(__file__).resolve().parent.parent / "docs" / "exercise-json.md"
SEEDS = range(12)
FIELDS = [
    "generator",
    "seed",
    "difficulty",
    "question",
    "spec",
    "inputs",
    "asked",
    "answer",
    "tolerance",
    "solution",
]

_SECTION = re.compile(r"^### `([a-z0-9-]+)`$", re.MULTILINE)
_TOKEN = re.compile(r"`([^`]+)`")


class Variant:
    """One documented key set: the keys always there, and those marked `?`."""

    def __init__(self, text: str):
        tokens = _TOKEN.findall(text)
        assert tokens, f"no keys in {text!r}"
        self.required = {t for t in tokens if not t.endswith("?")}
        self.optional = {t[:-1] for t in tokens if t.endswith("?")}

    def matches(self, keys) -> bool:
        return self.required <= set(keys) <= self.required | self.optional


@cache
def documented() -> dict[str, dict[str, list]]:
    """{generator: {"spec": [Variant], "inputs": [Variant], "asked": {token}}} from the page."""
    text = DOC.read_text(encoding="utf-8")
    starts = list(_SECTION.finditer(text))
    sections = {}
    for here, after in zip(starts, [*starts[1:], None], strict=True):
        body = text[here.end() : after.start() if after else len(text)]
        lines = {
            key: rest
            for key, rest in re.findall(r"^- (spec|inputs|asked): (.+)$", body, re.MULTILINE)
        }
        assert set(lines) == {"spec", "inputs", "asked"}, (here.group(1), set(lines))
        sections[here.group(1)] = {
            "spec": [Variant(part) for part in lines["spec"].split(" | ")],
            "inputs": [Variant(part) for part in lines["inputs"].split(" | ")],
            "asked": set(_TOKEN.findall(lines["asked"])),
        }
    return sections


def test_every_generator_is_documented_and_nothing_else():
    assert sorted(documented()) == sorted(registry.names())


def test_the_readme_points_to_the_contract():
    readme = (DOC.parent.parent / "README.md").read_text(encoding="utf-8")
    assert "docs/exercise-json.md" in readme


def exercises(name: str):
    for difficulty in Difficulty:
        for seed in SEEDS:
            yield registry.make(name, seed, difficulty=difficulty)


def is_number(value) -> bool:
    return type(value) in (int, float) and math.isfinite(value)


def numbers_in(value):
    if isinstance(value, list):
        for item in value:
            yield from numbers_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from numbers_in(item)
    elif not isinstance(value, str | bool) and value is not None:
        yield value


def rectangular(value) -> bool:
    """A number, or a list whose items are all numbers or all lists of one shape."""
    if not isinstance(value, list):
        return is_number(value)
    return all(rectangular(item) for item in value) and len({np.shape(v) for v in value}) <= 1


@pytest.mark.parametrize("name", registry.names())
def test_records_follow_the_contract(name):
    contract = documented()[name]
    for ex in exercises(name):
        record = json.loads(json.dumps(ex.to_dict(), allow_nan=False))
        where = (name, ex.seed, ex.difficulty.value)
        assert list(record) == FIELDS, where
        assert record["generator"] == name and record["seed"] == ex.seed
        assert record["difficulty"] in ("hand", "calc")
        assert isinstance(record["question"], str) and record["question"].strip()
        assert record["solution"] and all(isinstance(s, str) for s in record["solution"])

        assert any(v.matches(record["spec"]) for v in contract["spec"]), (where, record["spec"])
        inputs = record["inputs"]
        assert any(v.matches(inputs) for v in contract["inputs"]), (where, sorted(inputs))
        assert all(is_number(v) for v in numbers_in(inputs)), where
        _check_asked(record["asked"], inputs, contract["asked"], where)
        _check_answer(record, where)
        # The record is the exercise: reading it back loses nothing.
        assert Exercise.from_dict(record).to_dict() == record


def _check_asked(asked: dict, inputs: dict, allowed: set[str], where) -> None:
    if "wrt" in asked:
        assert set(asked) == {"wrt", "index"}, where
        assert f"wrt:{asked['wrt']}" in allowed, (where, asked)
        shape, index = np.shape(inputs[asked["wrt"]]), asked["index"]
        assert all(type(i) is int for i in index), where
        # An entry of the input, or [] for all of it.
        assert index == [] or len(index) == len(shape), (where, index, shape)
        assert all(0 <= i < n for i, n in zip(index, shape, strict=False)), (where, index)
    else:
        assert set(asked) in ({"value"}, {"value", "index"}), where
        assert f"value:{asked['value']}" in allowed, (where, asked)
        assert all(type(i) is int and i >= 0 for i in asked.get("index", [])), where


def _check_answer(record: dict, where) -> None:
    answer, tolerance = record["answer"], record["tolerance"]
    assert rectangular(answer), (where, answer)
    if tolerance == {"exact": True}:
        assert type(answer) is int, (where, answer)
    else:
        assert set(tolerance) == {"rel", "abs"}, (where, tolerance)
        assert all(is_number(v) and v >= 0 for v in tolerance.values()), where
        assert tolerance["rel"] > 0 or tolerance["abs"] > 0, where
    # The last solution line ends in "= <answer>", which the grader accepts.
    exercise = Exercise.from_dict(record)
    shown = record["solution"][-1].rsplit("= ", 1)[-1].rstrip(".")
    assert check(shown, exercise).correct, (where, record["solution"][-1])


@pytest.mark.parametrize("name", registry.names())
def test_steps_when_asked_for(name):
    for ex in exercises(name):
        record = json.loads(json.dumps(ex.to_dict(steps=True), allow_nan=False))
        if "steps" not in record:
            continue
        steps = record["steps"]
        assert steps and all(set(step) == {"name", "value", "rule"} for step in steps), name
        assert all(isinstance(step["name"], str) and step["name"] for step in steps)
        assert rectangular(steps[-1]["value"])
        # The asked value comes last.
        assert close(steps[-1]["value"], ex.answer, ex.tolerance), (name, ex.seed)


def test_without_answers_the_key_fields_are_left_out():
    ex = registry.make("kv-cache-memory", 3)
    (record,) = json.loads(render_json([ex], answers=False))
    assert list(record) == [f for f in FIELDS if f not in ("answer", "solution")]
