"""single-neuron: ∂L/∂w, ∂L/∂b or ∂L/∂x for one neuron, its activation and a loss.

z = w·x + b, a = f(z), and L compares a with the target y; with `bce` the neuron is a
logistic unit and L = −[y log σ(z) + (1 − y) log(1 − σ(z))]. Inputs keep fixed names
(x, w, b, y) so anyone can recheck an exercise.

A dead ReLU (z < 0) is allowed here: its zero gradient is the lesson. By hand, a σ or
tanh neuron's question lists f(z), and z stays within ±3 so that the rounded f(z) still
gives f′(z) to well within the tolerance.
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
    activation_function,
    activation_text,
    activation_values,
    asked_derivative,
    asked_gradient,
    check_derivative,
    choose,
    clear_of_kinks,
    derivative_note,
    distinct_slips,
    draw,
    draws,
    extras_wanted,
    format_index,
    guided_steps,
    input_lines,
    json_inputs,
    named_nodes,
    plain_activation,
    random_index,
    resample,
    unsaturated,
    useful_values,
    worked_solution,
)
from drill.exercises.registry import BadParams

ACTIVATIONS = ("relu", "leaky_relu", "sigmoid", "tanh")
LOSSES = ("mse", "half_sse", "bce")
SLOPES = (0.01, 0.1, 0.2)
KINKED = ("relu", "leaky_relu")

PARAMS: dict[str, tuple[Any, ...]] = {
    "activation": ACTIVATIONS,
    "loss": LOSSES,
    "wrt": ("w", "b", "x"),
    "size": (1, 2, 3, 4),
    "slope": SLOPES,
}

LOSS_TEXT = {
    "mse": "L = (a − y)², the mean squared error of this single output (n = 1)",
    "half_sse": "L = ½ (a − y)²",
    "bce": "L = −[y log a + (1 − y) log(1 − a)], the binary cross-entropy (natural log)",
}


@dataclass(frozen=True)
class Setup:
    activation: str
    loss: str
    size: int
    wrt: str
    index: tuple[int, ...]
    slope: float | None  # leaky_relu only


def _choose_activation(rng: np.random.Generator, hand: bool, params: dict) -> str:
    if params.get("loss") == "bce":
        # bce is taken from the logit z, so the neuron must be a sigmoid unit.
        if params.get("activation", "sigmoid") != "sigmoid":
            raise BadParams("single-neuron: loss bce needs activation sigmoid")
        return "sigmoid"
    return choose(rng, params, "activation", KINKED if hand else ACTIVATIONS)


def _choose_setup(rng: np.random.Generator, difficulty: Difficulty, params: dict) -> Setup:
    hand = difficulty is Difficulty.HAND
    activation = _choose_activation(rng, hand, params)
    squared = ("mse", "half_sse")
    loss = choose(rng, params, "loss", (*squared, "bce") if activation == "sigmoid" else squared)
    size = choose(rng, params, "size", (2, 3) if hand else (2, 3, 4))
    slope = choose(rng, params, "slope", SLOPES) if activation == "leaky_relu" else None
    wrt = choose(rng, params, "wrt", ("w", "b", "x"))
    index = () if wrt == "b" else random_index(rng, (size,))
    return Setup(activation, loss, size, wrt, index, slope)


def _draw_inputs(rng: np.random.Generator, difficulty: Difficulty, setup: Setup) -> dict:
    if setup.loss == "bce":
        target = np.float64(rng.integers(2))
    else:
        target = draw(rng, difficulty, (), -2.0, 2.0)
    n = setup.size
    x, w, b = draws(
        rng, difficulty, ((n,), -2.0, 2.0, True), ((n,), -1.5, 1.5, True), ((), -1.0, 1.0, False)
    )
    return {"x": x, "w": w, "b": b, "y": target}


def _build(inputs: dict[str, Any], setup: Setup) -> Tensor:
    """The loss node, with z (and a, unless the loss takes z itself) named for the trace."""
    x, w, b, y = (Tensor(inputs[name], name=name) for name in ("x", "w", "b", "y"))
    w.backward_note = "∂L/∂z · x"
    b.backward_note = "∂L/∂z"
    x.backward_note = "∂L/∂z · w"
    z = (w @ x + b).named("z", forward="w·x + b")
    f = setup.activation
    if setup.loss == "bce":
        z.backward_note = "σ(z) − y"
        loss = engine.bce(z, y)
        return loss.named("L", forward="−[y log σ(z) + (1 − y) log(1 − σ(z))]")
    z.backward_note = f"∂L/∂a · {f}′(z)"
    a = activation_function(f, setup.slope)(z).named(
        "a", forward=f"{f}(z)", backward="2(a − y)" if setup.loss == "mse" else "a − y"
    )
    if setup.loss == "mse":
        return ((a - y) ** 2).named("L", forward="(a − y)²")
    return (0.5 * (a - y) ** 2).named("L", forward="½ (a − y)²")


def _loss_value(inputs: dict[str, Any], setup: Setup) -> float:
    """L in plain NumPy, for the central-difference check: no engine code shared."""
    z = inputs["w"] @ inputs["x"] + inputs["b"]
    y = inputs["y"]
    if setup.loss == "bce":  # −[y log σ(z) + (1 − y) log(1 − σ(z))]
        return float(y * np.logaddexp(0.0, -z) + (1.0 - y) * np.logaddexp(0.0, z))
    error = plain_activation(setup.activation, z, setup.slope) - y
    return float(error**2 if setup.loss == "mse" else 0.5 * error**2)


def _answer(inputs: dict[str, Any], setup: Setup) -> tuple[Tensor, float]:
    loss = _build(inputs, setup)
    return loss, asked_gradient(loss, setup.wrt, setup.index)


def _slips(loss: Tensor, setup: Setup, answer: float) -> dict[str, float]:
    """Likely wrong answers, each from a backward pass that repeats the slip."""
    nodes = _fresh_nodes(loss)
    slips = {"sign flipped": -answer}
    if setup.loss == "bce":
        wrong_seeds = {"y not subtracted from σ(z)": ("z", engine.sigmoid(nodes["z"].value).value)}
    else:
        a_grad = nodes["a"].grad.copy()
        forgot = {
            "relu": "ReLU mask forgotten",
            "leaky_relu": "leaky ReLU slope forgotten",
        }.get(setup.activation, f"{setup.activation}′(z) factor forgotten")
        # Passing ∂L/∂a straight to z is the same as taking f′(z) = 1.
        wrong_seeds = {forgot: ("z", a_grad)}
        if setup.loss == "mse":
            a, y = nodes["a"].value, nodes["y"].value
            wrong_seeds["factor 2 of the square missing"] = ("a", a - y)
    for description, (start, seed) in wrong_seeds.items():
        nodes[start].backward(seed=seed)
        slips[description] = float(nodes[setup.wrt].grad[setup.index])
    return distinct_slips(slips, answer)


def _fresh_nodes(loss: Tensor) -> dict[str, Tensor]:
    loss.backward()
    return named_nodes(loss)


def _question(setup: Setup, inputs: dict[str, Any], hand: bool) -> str:
    f = setup.activation
    if setup.loss == "bce":
        activation_line = "  a = σ(z) = 1 / (1 + e^(−z)), the predicted probability that y = 1"
    else:
        activation_line = f"  a = {f}(z), where {activation_text(f, 'z', setup.slope)}"
    asked = "∂L/∂b" if setup.wrt == "b" else f"∂L/∂{setup.wrt}{format_index(setup.index)}"
    note = "" if setup.wrt == "b" else f" {INDEX_NOTE}"
    # σ(z) or tanh(z) needs a table; the ReLUs need none, and then no line is added.
    z = inputs["w"] @ inputs["x"] + inputs["b"]
    hint = useful_values(activation_values(setup.activation, z)) if hand else ""
    lines = [
        "One neuron with input vector x, weight vector w, a scalar bias b and target y:",
        "  z = w·x + b = Σᵢ wᵢ xᵢ + b",
        activation_line,
        "  " + LOSS_TEXT[setup.loss],
        "Inputs:",
        *input_lines(inputs),
        *([hint] if hint else []),
        f"Compute {asked}{note}.",
    ]
    return "\n".join(lines)


def generate(rng: np.random.Generator, difficulty: Difficulty, **params: Any) -> Exercise:
    setup = _choose_setup(rng, difficulty, params)

    def acceptable(inputs: dict[str, Any]) -> bool:
        z = inputs["w"] @ inputs["x"] + inputs["b"]
        if difficulty is Difficulty.HAND and not unsaturated(setup.activation, z):
            return False
        return setup.activation not in KINKED or clear_of_kinks([z])

    inputs = resample(rng, lambda r: _draw_inputs(r, difficulty, setup), acceptable)
    loss, answer = _answer(inputs, setup)
    check_derivative(lambda v: _loss_value(v, setup), inputs, setup.wrt, setup.index, answer)
    notes = {}
    if setup.loss != "bce":
        z = named_nodes(loss)["z"].value
        notes["z"] = derivative_note(setup.activation, "z", z, setup.slope)
    solution = worked_solution(loss, setup.wrt, setup.index, answer, notes)
    steps = guided_steps(loss, setup.wrt, setup.index, answer)  # before _slips reruns backward
    spec: dict[str, Any] = {"activation": setup.activation, "loss": setup.loss}
    if setup.slope is not None:
        spec["slope"] = setup.slope
    return Exercise(
        generator="single-neuron",
        seed=0,
        difficulty=difficulty,
        question=_question(setup, inputs, difficulty is Difficulty.HAND),
        spec=spec | {"convention": "z = w·x + b"},
        inputs=json_inputs(inputs),
        asked=asked_derivative(setup.wrt, setup.index),
        answer=answer,
        solution=solution,
        slips=_slips(loss, setup, answer) if extras_wanted() else {},
        steps=steps,
    )
