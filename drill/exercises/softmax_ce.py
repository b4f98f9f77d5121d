"""softmax-cross-entropy: the loss of a softmax classifier, or its gradient at one logit.

Inputs keep fixed names: z (the logits) and y (a one-hot target). The graph is written
as a person works it, p = softmax(z) then L = −Σ yᵢ log pᵢ, so the worked solution
shows p and reaches the classic ∂L/∂z = p − y.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from drill import engine
from drill.engine import Tensor
from drill.exercises.base import Difficulty, Exercise
from drill.exercises.common import (
    ASKED_LOSS,
    HINT_ARGUMENT_DIGITS,
    INDEX_NOTE,
    asked_derivative,
    check_derivative,
    choose,
    distinct_slips,
    draw,
    extras_wanted,
    fmt,
    format_index,
    input_lines,
    json_inputs,
    one_hot,
    random_index,
    tabulate,
    useful_values,
    value_solution,
    worked_solution,
)

ASKED = ("loss", "gradient")
PARAMS: dict[str, tuple[Any, ...]] = {"asked": ASKED, "classes": (2, 3, 4, 5, 6)}


def _build(inputs: dict[str, Any]) -> tuple[Tensor, Tensor]:
    """The logits node z and the loss node L."""
    z = Tensor(inputs["z"], name="z")
    z.backward_note = "p − y"
    y = Tensor(inputs["y"], name="y")
    p = engine.softmax(z).named(
        "p", forward="softmax(z)", backward="−y / p on the true class, 0 elsewhere"
    )
    loss = -(y * engine.log(p)).sum()
    return z, loss.named("L", forward="−Σ y log p")


def _question(inputs: dict[str, Any], asked: str, index: tuple[int, ...], hand: bool) -> str:
    k = len(inputs["z"])
    target = int(np.argmax(inputs["y"]))
    wanted = "the loss L" if asked == "loss" else f"∂L/∂z{format_index(index)} {INDEX_NOTE}"
    lines = [
        f"A classifier gives logits z for K = {k} classes; the target y is one-hot "
        f"(the true class is {target}, counting from 0).",
        "  p = softmax(z), pᵢ = e^(zᵢ) / Σⱼ e^(zⱼ)",
        "  L = −Σᵢ yᵢ log pᵢ, the cross-entropy (natural log)",
        "Inputs:",
        *input_lines(inputs),
    ]
    if hand:
        lines.append(useful_values(_hand_values(inputs["z"], asked)))
    lines.append(f"Compute {wanted}.")
    return "\n".join(lines)


def _hand_values(z: np.ndarray, asked: str) -> list[tuple[str, float]]:
    """e^(zᵢ) for each distinct logit, and for the loss the logarithm it needs.

    −log pₜ = ln(Σⱼ e^(zⱼ)) − zₜ, so one natural log, of the sum, is the only one needed.
    """
    values = tabulate("e^({})", np.exp, z)
    if asked == "loss":
        total = float(np.exp(z).sum())
        label = f"ln(Σⱼ e^(zⱼ)) = ln({fmt(total, HINT_ARGUMENT_DIGITS)})"
        values.append((label, float(np.log(total))))
    return values


def _slips(z: Tensor, asked: str, index: tuple[int, ...], answer: float) -> dict[str, float]:
    """Likely wrong answers, from the engine's own values."""
    if asked == "loss":
        return distinct_slips(
            {
                "minus sign forgotten": -answer,
                "log base 10 instead of the natural log": answer / np.log(10.0),
            },
            answer,
        )
    p = engine.softmax(z.value).value[index]
    return distinct_slips({"sign flipped (y − p)": -answer, "y not subtracted from p": p}, answer)


def _loss_value(inputs: dict[str, Any]) -> float:
    """L in plain NumPy, for the central-difference check: no engine code shared."""
    z, y = np.asarray(inputs["z"]), np.asarray(inputs["y"])
    top = z.max()
    return float(-(y * (z - top - np.log(np.exp(z - top).sum()))).sum())


def generate(rng: np.random.Generator, difficulty: Difficulty, **params: Any) -> Exercise:
    hand = difficulty is Difficulty.HAND
    asked = choose(rng, params, "asked", ASKED)
    k = choose(rng, params, "classes", (2, 3) if hand else (3, 4, 5))
    low, high = (-2.0, 2.0) if hand else (-3.0, 3.0)
    inputs = {"z": draw(rng, difficulty, (k,), low, high), "y": one_hot(k, int(rng.integers(k)))}
    z, loss = _build(inputs)
    loss.backward()
    if asked == "loss":
        answer, index = loss.item(), ()
        solution = value_solution(loss, answer)
        asked_json: dict[str, Any] = dict(ASKED_LOSS)
    else:
        index = random_index(rng, (k,))
        answer = float(z.grad[index])
        check_derivative(_loss_value, inputs, "z", index, answer)
        solution = worked_solution(loss, "z", index, answer)
        asked_json = asked_derivative("z", index)
    return Exercise(
        generator="softmax-cross-entropy",
        seed=0,
        difficulty=difficulty,
        question=_question(inputs, asked, index, hand),
        spec={"loss": "cross_entropy", "asked": asked},
        inputs=json_inputs(inputs),
        asked=asked_json,
        answer=answer,
        solution=solution,
        slips=_slips(z, asked, index, answer) if extras_wanted() else {},
    )
