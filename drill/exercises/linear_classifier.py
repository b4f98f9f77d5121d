"""linear-classifier: one weight gradient of softmax or logistic regression, one example.

softmax:  z = W x + b (W of shape (C, d)), L = −Σ yᵢ log softmax(z)ᵢ with y one-hot;
          asks ∂L/∂W[i, j], which is (pᵢ − yᵢ) xⱼ.
logistic: z = w·x + b, L = −[y log σ(z) + (1 − y) log(1 − σ(z))] with y ∈ {0, 1};
          asks ∂L/∂w[j], which is (σ(z) − y) xⱼ.
Both losses are taken from the logits, as the engine computes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from drill import engine
from drill.engine import Tensor
from drill.exercises.base import Difficulty, Exercise
from drill.exercises.common import (
    INDEX_NOTE,
    SMALLEST_ANSWER,
    asked_derivative,
    asked_gradient,
    check_derivative,
    choose,
    distinct_slips,
    draws,
    extras_wanted,
    fmt_array,
    format_index,
    input_lines,
    json_inputs,
    named_nodes,
    one_hot,
    random_index,
    tabulate,
    useful_values,
    worked_solution,
)
from drill.exercises.registry import BadParams
from drill.exercises.screening import resample_keeping

MODELS = ("softmax", "logistic")
PARAMS: dict[str, tuple[Any, ...]] = {
    "model": MODELS,
    "classes": (2, 3, 4, 5),
    "features": (1, 2, 3, 4),
}

SOFTMAX_LINES = (
    "Softmax regression on one example: x has d = {d} features, there are C = {c} classes, "
    "and vectors are columns.",
    "  z = W x + b, with W of shape (C, d) and b of shape (C,)",
    "  p = softmax(z), pᵢ = e^(zᵢ) / Σₖ e^(zₖ)",
    "  L = −Σᵢ yᵢ log pᵢ, the cross-entropy (natural log), y one-hot (true class {t})",
)
LOGISTIC_LINES = (
    "Logistic regression on one example with d = {d} features and a label y ∈ {{0, 1}}:",
    "  z = w·x + b = Σⱼ wⱼ xⱼ + b",
    "  σ(z) = 1 / (1 + e^(−z)), the predicted probability that y = 1",
    "  L = −[y log σ(z) + (1 − y) log(1 − σ(z))], the binary cross-entropy (natural log)",
)


@dataclass(frozen=True)
class Setup:
    model: str
    classes: int  # C for softmax; 1 for logistic
    features: int
    index: tuple[int, ...]  # (i, j) into W, or (j,) into w

    @property
    def wrt(self) -> str:
        return "W" if self.model == "softmax" else "w"


def _choose_setup(rng: np.random.Generator, difficulty: Difficulty, params: dict) -> Setup:
    hand = difficulty is Difficulty.HAND
    model = choose(rng, params, "model", MODELS)
    if model == "logistic":
        if params.get("classes") not in (None, 2):
            raise BadParams("linear-classifier: logistic regression has 2 classes")
        d = choose(rng, params, "features", (2, 3) if hand else (2, 3, 4))
        return Setup(model, 1, d, random_index(rng, (d,)))
    c = choose(rng, params, "classes", (2, 3) if hand else (3, 4))
    d = choose(rng, params, "features", (2,) if hand else (2, 3, 4))
    return Setup(model, c, d, random_index(rng, (c, d)))


def _draw_inputs(rng: np.random.Generator, difficulty: Difficulty, setup: Setup) -> dict:
    c, d = setup.classes, setup.features
    if setup.model == "logistic":
        x, w, b = draws(
            rng,
            difficulty,
            ((d,), -2.0, 2.0, True),
            ((d,), -1.5, 1.5, True),
            ((), -1.0, 1.0, False),
        )
        return {"x": x, "w": w, "b": b, "y": rng.integers(2)}
    x, W, b = draws(
        rng,
        difficulty,
        ((d,), -2.0, 2.0, True),
        ((c, d), -1.0, 1.0, True),
        ((c,), -1.0, 1.0, False),
    )
    return {"x": x, "W": W, "b": b, "y": one_hot(c, int(rng.integers(c)))}


def _build(inputs: dict[str, Any], setup: Setup) -> Tensor:
    """The loss node, with the logits z named for the trace."""
    leaves = {name: Tensor(value, name=name) for name, value in inputs.items()}
    x, b, y = leaves["x"], leaves["b"], leaves["y"]
    weights = leaves[setup.wrt]
    b.backward_note = "∂L/∂z"
    if setup.model == "softmax":
        weights.backward_note = "∂L/∂z xᵀ, the outer product: row i is ∂L/∂zᵢ · x"
        z = (weights @ x + b).named("z", forward="W x + b", backward="softmax(z) − y")
        return engine.cross_entropy(z, y).named("L", forward="−Σ y log softmax(z)")
    weights.backward_note = "∂L/∂z · x"
    z = (weights @ x + b).named("z", forward="w·x + b", backward="σ(z) − y")
    loss = engine.bce(z, y)
    return loss.named("L", forward="−[y log σ(z) + (1 − y) log(1 − σ(z))]")


def _probabilities(z: np.ndarray, setup: Setup) -> np.ndarray:
    """softmax(z) or σ(z), from the engine."""
    squash = engine.softmax if setup.model == "softmax" else engine.sigmoid
    return squash(z).value


def _answer(inputs: dict[str, Any], setup: Setup) -> tuple[Tensor, float]:
    loss = _build(inputs, setup)
    return loss, asked_gradient(loss, setup.wrt, setup.index)


def _judged(built: tuple[Tensor, float]) -> tuple[bool, tuple[Tensor, float]]:
    """A draw's graph and answer, and whether the answer is large enough to grade (a
    near-certain class makes pᵢ − yᵢ tiny)."""
    return abs(built[1]) >= SMALLEST_ANSWER, built


def _loss_value(inputs: dict[str, Any], setup: Setup) -> float:
    """L in plain NumPy, for the central-difference check: no engine code shared."""
    z = inputs[setup.wrt] @ inputs["x"] + inputs["b"]
    y = inputs["y"]
    if setup.model == "softmax":
        log_p = z - z.max() - np.log(np.exp(z - z.max()).sum())
        return float(-(y * log_p).sum())
    return float(y * np.logaddexp(0.0, -z) + (1.0 - y) * np.logaddexp(0.0, z))


def _slips(loss: Tensor, setup: Setup, answer: float) -> dict[str, float]:
    """Likely wrong answers, each from a backward pass that repeats the slip."""
    nodes = named_nodes(loss)
    loss.backward()
    row = setup.index[:-1]  # the class i of W[i, j]; () for logistic regression
    squash = "p" if setup.model == "softmax" else "σ(z)"
    slips = {
        "sign flipped": -answer,
        f"the factor x[{setup.index[-1]}] forgotten": float(nodes["b"].grad[row]),
    }
    probabilities = _probabilities(nodes["z"].value, setup)
    nodes["z"].backward(seed=probabilities)  # as if ∂L/∂z were p, y never subtracted
    slips[f"y not subtracted from {squash}"] = float(nodes[setup.wrt].grad[setup.index])
    return distinct_slips(slips, answer)


def _hint(inputs: dict[str, Any], setup: Setup) -> str:
    """The exponentials a person needs, so the exercise stays a pen-and-paper one."""
    weights = inputs[setup.wrt]
    z = np.atleast_1d(weights @ inputs["x"] + inputs["b"])
    # e^0 = 1 needs no table.
    powers = [v for v in (z if setup.model == "softmax" else -z) if v != 0.0]
    return useful_values(tabulate("e^({})", np.exp, powers))


def _question(setup: Setup, inputs: dict[str, Any], hand: bool) -> str:
    if setup.model == "softmax":
        true_class = int(np.argmax(inputs["y"]))
        text = [
            line.format(d=setup.features, c=setup.classes, t=true_class) for line in SOFTMAX_LINES
        ]
    else:
        text = [line.format(d=setup.features) for line in LOGISTIC_LINES]
    lines = [*text, "Inputs:", *input_lines(inputs)]
    if hand and (hint := _hint(inputs, setup)):
        lines.append(hint)
    lines.append(f"Compute ∂L/∂{setup.wrt}{format_index(setup.index)} {INDEX_NOTE}.")
    return "\n".join(lines)


def generate(rng: np.random.Generator, difficulty: Difficulty, **params: Any) -> Exercise:
    setup = _choose_setup(rng, difficulty, params)
    inputs, (loss, answer) = resample_keeping(
        rng, lambda r: _draw_inputs(r, difficulty, setup), lambda v: _judged(_answer(v, setup))
    )
    check_derivative(lambda v: _loss_value(v, setup), inputs, setup.wrt, setup.index, answer)
    probabilities = _probabilities(named_nodes(loss)["z"].value, setup)
    name = "p = softmax(z)" if setup.model == "softmax" else "σ(z)"
    notes = {"z": f"where {name} = {fmt_array(probabilities)}"}
    solution = worked_solution(loss, setup.wrt, setup.index, answer, notes)
    return Exercise(
        generator="linear-classifier",
        seed=0,
        difficulty=difficulty,
        question=_question(setup, inputs, difficulty is Difficulty.HAND),
        spec={
            "model": setup.model,
            "loss": "cross_entropy" if setup.model == "softmax" else "bce",
            "convention": "z = W x + b" if setup.model == "softmax" else "z = w·x + b",
        },
        inputs=json_inputs(inputs),
        asked=asked_derivative(setup.wrt, setup.index),
        answer=answer,
        solution=solution,
        slips=_slips(loss, setup, answer) if extras_wanted() else {},
    )
