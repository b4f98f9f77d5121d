"""vanishing-gradient: backpropagation through a chain of k scalar sigmoid (or tanh) layers.

hᵢ = f(wᵢ hᵢ₋₁ + bᵢ) for i = 1, …, k. Asks either ∂h_k/∂h_0, the product of the k
factors wᵢ f′(zᵢ), or ∂L/∂w1 for L = ½ (h_k − y)², which carries the same product back
to the first layer. With the sigmoid each f′ is at most 1/4, so the answer is small:
the point of the exercise. Weights are drawn so that every layer's factor |wᵢ f′(zᵢ)| is
at most 0.9, tanh layers included, so the chain always shows a vanishing gradient.

By hand, the forward values are printed for the student (to 6 significant figures):
exponentials of arbitrary numbers are not pen-and-paper work, the backward product is.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from drill.engine import Tensor
from drill.exercises.base import Difficulty, Exercise, Tolerance
from drill.exercises.common import (
    activation_function,
    asked_derivative,
    asked_gradient,
    check_derivative,
    choose,
    distinct_slips,
    draws,
    extras_wanted,
    fmt,
    fmt_array,
    json_inputs,
    named_nodes,
    useful_values,
    worked_solution,
)
from drill.exercises.screening import resample_keeping

ACTIVATIONS = ("sigmoid", "tanh")
ASKED = ("h0", "w1")
PARAMS: dict[str, tuple[Any, ...]] = {
    "activation": ACTIVATIONS,
    "asked": ASKED,
    "layers": (2, 3, 4, 5, 6, 7, 8),
}
HINT_DIGITS = 6  # forward values given by hand; enough that rounding stays far below 1%

SYMBOL = {"sigmoid": "σ", "tanh": "tanh", "identity": "id"}
DEFINITION = {
    "sigmoid": "σ(z) = 1 / (1 + e^(−z))",
    "tanh": "tanh(z) = (e^z − e^(−z)) / (e^z + e^(−z))",
}
BOUND = {
    "sigmoid": "σ′(z) = σ(z)(1 − σ(z)) is at most 1/4 (at z = 0), so every factor "
    "|wᵢ σ′(zᵢ)| is at most |wᵢ|/4 and their product shrinks quickly with depth",
    "tanh": "tanh′(z) = 1 − tanh²(z) is at most 1 (at z = 0), so the product shrinks "
    "whenever the factors |wᵢ| tanh′(zᵢ) are below 1, as they all are here",
}
# The largest factor |wᵢ f′(zᵢ)| a draw may have: below 1, every layer shrinks the gradient.
MAX_FACTOR = 0.9
# f′(zᵢ) written with the layer's own output, as a person computes it.
DERIVATIVE_FROM_OUTPUT = {"sigmoid": "h{i}(1 − h{i})", "tanh": "1 − h{i}²"}


@dataclass(frozen=True)
class Setup:
    activation: str
    asked: str  # "h0": ∂h_k/∂h_0; "w1": ∂L/∂w1
    layers: int

    @property
    def root(self) -> str:
        return "L" if self.asked == "w1" else f"h{self.layers}"

    @property
    def wrt(self) -> tuple[str, tuple[int, ...]]:
        """The input asked about and its index, as the JSON names it."""
        return ("w", (0,)) if self.asked == "w1" else ("h0", ())


def _choose_setup(rng: np.random.Generator, difficulty: Difficulty, params: dict) -> Setup:
    hand = difficulty is Difficulty.HAND
    activation = choose(rng, params, "activation", ACTIVATIONS)
    asked = choose(rng, params, "asked", ASKED)
    layers = choose(rng, params, "layers", (3, 4) if hand else (3, 4, 5, 6))
    return Setup(activation, asked, layers)


def _draw_inputs(rng: np.random.Generator, difficulty: Difficulty, setup: Setup) -> dict:
    k = setup.layers
    h0, w, b = draws(
        rng, difficulty, ((), -1.0, 1.0, True), ((k,), -2.0, 2.0, True), ((k,), -1.0, 1.0, False)
    )
    inputs = {"h0": h0, "w": w, "b": b}
    if setup.asked == "w1":
        # A target the output can approach: 0 or 1 for σ, −1 or 1 for tanh.
        low = 0.0 if setup.activation == "sigmoid" else -1.0
        inputs["y"] = np.float64(low if rng.integers(2) == 0 else 1.0)
    return inputs


def _build(inputs: dict[str, Any], setup: Setup) -> Tensor:
    """h_k, or L = ½ (h_k − y)², with every layer's nodes named for the trace."""
    f, sym, root = activation_function(setup.activation), SYMBOL[setup.activation], setup.root
    h = Tensor(inputs["h0"], name="h0")
    h.backward_note = f"∂{root}/∂z1 · w1"
    for i in range(1, setup.layers + 1):
        w = Tensor(np.asarray(inputs["w"])[i - 1], name=f"w{i}")
        b = Tensor(np.asarray(inputs["b"])[i - 1], name=f"b{i}")
        w.backward_note = f"∂{root}/∂z{i} · h{i - 1}"
        z = (w * h + b).named(
            f"z{i}", forward=f"w{i}·h{i - 1} + b{i}", backward=f"∂{root}/∂h{i} · {sym}′(z{i})"
        )
        h = f(z).named(f"h{i}", forward=f"{sym}(z{i})", backward=f"∂{root}/∂z{i + 1} · w{i + 1}")
    if setup.asked == "h0":
        h.backward_note = None
        return h
    h.backward_note = f"h{setup.layers} − y"
    y = Tensor(inputs["y"], name="y")
    return (0.5 * (h - y) ** 2).named("L", forward=f"½ (h{setup.layers} − y)²")


def _loss_spec(setup: Setup) -> dict[str, str]:
    """The loss, in the JSON, when ∂L/∂w1 is asked."""
    if setup.asked != "w1":
        return {}
    return {"loss": "half_sse", "loss_formula": f"L = ½ (h{setup.layers} − y)²"}


def _judge(inputs: dict[str, Any], setup: Setup) -> tuple[bool, tuple[Tensor, list[float]]]:
    """Whether every layer shrinks the gradient (each factor wᵢ f′(zᵢ) is small enough),
    with the graph and the slopes f′(zᵢ) that tell, kept for the accepted draw."""
    root = _build(inputs, setup)
    slopes = _derivatives(root, setup)
    factors = np.asarray(inputs["w"], dtype=np.float64) * np.asarray(slopes)
    return bool((np.abs(factors) <= MAX_FACTOR).all()), (root, slopes)


def _loss_value(inputs: dict[str, Any], setup: Setup) -> float:
    """The root's value in plain NumPy, for the central-difference check: no engine code."""
    squash = (lambda z: 1.0 / (1.0 + np.exp(-z))) if setup.activation == "sigmoid" else np.tanh
    h = inputs["h0"]
    for w, b in zip(inputs["w"], inputs["b"], strict=True):
        h = squash(w * h + b)
    return float(h if setup.asked == "h0" else 0.5 * (h - inputs["y"]) ** 2)


def _answer(inputs: dict[str, Any], setup: Setup) -> tuple[Tensor, float]:
    root = _build(inputs, setup)
    asked = "w1" if setup.asked == "w1" else "h0"
    return root, asked_gradient(root, asked)


def _derivatives(root: Tensor, setup: Setup) -> list[float]:
    """f′(zᵢ) for each layer, from the engine's own outputs hᵢ = f(zᵢ): as the engine's
    σ and tanh work out their local derivatives, σ(z)(1 − σ(z)) and 1 − tanh(z)², the
    same operations on the same values (a backward pass through f for each layer, which
    `local_derivative` would run, gives those numbers times 1)."""
    nodes = named_nodes(root)
    outputs = [nodes[f"h{i}"].value for i in range(1, setup.layers + 1)]
    if setup.activation == "sigmoid":
        return [float(h * (1.0 - h)) for h in outputs]
    # tanh gave a NumPy scalar (the node holds it as a 0-d array): the same scalar again.
    return [float(1.0 - h[()] ** 2) for h in outputs]


def _solution(
    root: Tensor, setup: Setup, inputs: dict[str, Any], answer: float, slopes: list[float]
) -> list[str]:
    sym, k = SYMBOL[setup.activation], setup.layers
    rule = DERIVATIVE_FROM_OUTPUT[setup.activation]
    notes = {
        f"z{i}": f"{sym}′(z{i}) = {rule.format(i=i)} = {fmt(slope)}"
        for i, slope in enumerate(slopes, 1)
    }
    asked = "w1" if setup.asked == "w1" else "h0"
    lines = worked_solution(root, asked, (), answer, notes)
    factors = [float(w) * s for w, s in zip(np.asarray(inputs["w"]), slopes, strict=True)]
    # ∂L/∂w1 ends in f′(z1)·h0 rather than in the first layer's factor w1·f′(z1).
    first = 2 if setup.asked == "w1" else 1
    shown = factors[first - 1 :]
    summary = (
        f"Layers {first} to {k} each multiplied the gradient by wᵢ·{sym}′(zᵢ): "
        f"{fmt_array(shown)}, a product of {fmt(np.prod(shown), 6)}."
    )
    return [*lines[:-1], summary, lines[-1]]


def _slips(inputs: dict[str, Any], setup: Setup, root: Tensor, answer: float) -> dict[str, float]:
    """Likely wrong answers, each from a backward pass that repeats the slip."""
    z1 = float(named_nodes(root)["z1"].grad)  # ∂root/∂z1: the chain without its last factor
    last = "h0" if setup.asked == "w1" else "w1"
    slips = {"sign flipped": -answer, f"the last factor {last} left out": z1}
    if setup.asked == "h0":
        # A linear chain with the same weights: the slope factors f′(zᵢ) all taken as 1.
        linear = dataclasses.replace(setup, activation="identity")
        slips[f"the {SYMBOL[setup.activation]}′ factors left out"] = _answer(inputs, linear)[1]
    return distinct_slips(slips, answer)


def _question(setup: Setup, inputs: dict[str, Any], root: Tensor, hand: bool) -> str:
    f, sym, k = setup.activation, SYMBOL[setup.activation], setup.layers
    lines = [
        f"A chain of k = {k} scalar layers, each with one weight and one bias:",
        f"  hᵢ = {sym}(zᵢ), zᵢ = wᵢ hᵢ₋₁ + bᵢ, for i = 1, …, {k}, where {DEFINITION[f]}",
    ]
    if setup.asked == "w1":
        lines.append(f"  L = ½ (h{k} − y)²")
    lines += [
        "Inputs:",
        f"  h0 = {fmt(inputs['h0'])}",
        f"  w = (w1, …, w{k}) = {fmt_array(inputs['w'])}",
        f"  b = (b1, …, b{k}) = {fmt_array(inputs['b'])}",
    ]
    if setup.asked == "w1":
        lines.append(f"  y = {fmt(inputs['y'])}")
    if hand:
        # The forward pass, done for you: every hᵢ needs a table of σ or tanh.
        nodes = named_nodes(root)
        forward = [(f"h{i}", nodes[f"h{i}"].item()) for i in range(1, k + 1)]
        lines.append(useful_values(forward, HINT_DIGITS))
    lines.append(f"Note: {BOUND[f]}.")
    if setup.asked == "w1":
        lines.append("Compute ∂L/∂w1, the gradient of the loss with respect to the first weight.")
    else:
        lines.append(f"Compute ∂h{k}/∂h0, the gradient of the last output with respect to h0.")
    return "\n".join(lines)


def generate(rng: np.random.Generator, difficulty: Difficulty, **params: Any) -> Exercise:
    setup = _choose_setup(rng, difficulty, params)
    # Every layer must shrink the gradient, or the chain would not show what it is named for
    # (a tanh layer with |w| = 2 near z = 0 multiplies it by almost 2).
    inputs, (root, slopes) = resample_keeping(
        rng, lambda r: _draw_inputs(r, difficulty, setup), lambda v: _judge(v, setup)
    )
    answer = asked_gradient(root, "w1" if setup.asked == "w1" else "h0")
    wrt, index = setup.wrt
    check_derivative(lambda v: _loss_value(v, setup), inputs, wrt, index, answer)
    return Exercise(
        generator="vanishing-gradient",
        seed=0,
        difficulty=difficulty,
        question=_question(setup, inputs, root, difficulty is Difficulty.HAND),
        spec={
            "activation": setup.activation,
            "layers": setup.layers,
            "of": setup.root,
            **_loss_spec(setup),
            "convention": "h_i = f(w_i h_(i−1) + b_i); w[0] is w1",
        },
        inputs=json_inputs(inputs),
        asked=asked_derivative(wrt, index),
        answer=answer,
        # Answers can be far below the default absolute tolerance: grade them relatively.
        tolerance=Tolerance(rel=1e-2, abs=1e-9),
        solution=_solution(root, setup, inputs, answer, slopes),
        slips=_slips(inputs, setup, root, answer) if extras_wanted() else {},
    )
