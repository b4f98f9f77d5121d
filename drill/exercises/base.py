"""The Exercise value and its JSON contract (see DESIGN.md, "Exercise JSON")."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

Answer = int | float | list[Any]


class Difficulty(StrEnum):
    HAND = "hand"  # small numbers on a 0.5 grid, workable with pen and paper
    CALC = "calc"  # any floats; a calculator is expected


@dataclass(frozen=True)
class Tolerance:
    rel: float = 1e-2
    abs: float = 1e-3
    exact: bool = False  # integer answers (counts, sizes) must match exactly

    def to_dict(self) -> dict[str, Any]:
        if self.exact:
            return {"exact": True}
        return {"rel": self.rel, "abs": self.abs}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Tolerance:
        if data.get("exact"):
            return cls(exact=True)
        return cls(rel=float(data.get("rel", 1e-2)), abs=float(data.get("abs", 1e-3)))


@dataclass(frozen=True)
class Step:
    """One intermediate quantity of a guided exercise, in the order it is computed."""

    name: str  # what is asked: "z1", "∂L/∂h1", "∂L/∂W1[0, 1]"
    value: Answer
    rule: str = ""  # how it is computed: "W1 x + b1", "W2ᵀ ∂L/∂z2"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "rule": self.rule}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Step:
        return cls(name=data["name"], value=data["value"], rule=data.get("rule", ""))


DEFAULT_TOLERANCE = Tolerance()


@dataclass(frozen=True, init=False)
class Exercise:
    generator: str
    seed: int
    difficulty: Difficulty
    question: str
    spec: Mapping[str, Any]
    inputs: Mapping[str, Any]
    asked: Mapping[str, Any]
    answer: Answer
    tolerance: Tolerance = field(default_factory=Tolerance)
    solution: Sequence[str] = ()
    slips: Mapping[str, Answer] = field(default_factory=dict)
    """Wrong answers a person is likely to give, by a short description of the slip."""
    steps: Sequence[Step] = ()
    """The forward and backward quantities leading to the answer, for guided study; the
    last step is the asked value itself. Empty when the generator offers no steps."""

    def __init__(
        self,
        generator: str,
        seed: int,
        difficulty: Difficulty,
        question: str,
        spec: Mapping[str, Any],
        inputs: Mapping[str, Any],
        asked: Mapping[str, Any],
        answer: Answer,
        tolerance: Tolerance = DEFAULT_TOLERANCE,
        solution: Sequence[str] = (),
        slips: Mapping[str, Answer] | None = None,
        steps: Sequence[Step] = (),
    ) -> None:
        # The fields go straight into the instance's dictionary: the frozen dataclass's own
        # __init__ sets them one object.__setattr__ at a time, which cost a tenth of a
        # cheap generator's exercise (an export makes thousands). Still frozen after.
        self.__dict__.update(
            generator=generator,
            seed=seed,
            difficulty=difficulty,
            question=question,
            spec=spec,
            inputs=inputs,
            asked=asked,
            answer=answer,
            tolerance=tolerance,
            solution=solution,
            slips={} if slips is None else slips,
            steps=steps,
        )

    def to_dict(self, steps: bool = False) -> dict[str, Any]:
        """The JSON contract; with `steps`, also the step list (when there is one)."""
        record = {
            "generator": self.generator,
            "seed": self.seed,
            "difficulty": self.difficulty.value,
            "question": self.question,
            "spec": dict(self.spec),
            "inputs": dict(self.inputs),
            "asked": dict(self.asked),
            "answer": self.answer,
            "tolerance": self.tolerance.to_dict(),
            "solution": list(self.solution),
        }
        if steps and self.steps:
            record["steps"] = [step.to_dict() for step in self.steps]
        return record

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Exercise:
        return cls(
            generator=data["generator"],
            seed=int(data["seed"]),
            difficulty=Difficulty(data["difficulty"]),
            question=data["question"],
            spec=dict(data["spec"]),
            inputs=dict(data["inputs"]),
            asked=dict(data["asked"]),
            answer=data["answer"],
            tolerance=Tolerance.from_dict(data.get("tolerance", {})),
            solution=tuple(data.get("solution", ())),
            steps=tuple(Step.from_dict(step) for step in data.get("steps", ())),
        )
