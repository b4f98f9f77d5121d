"""gated-activation-derivative: a gradient through the gated unit of a SwiGLU or GeGLU
feed-forward layer (Shazeer, GLU Variants Improve Transformer, 2020).

Two projections of the same input, one passed through an activation, multiply:

    a = W x,  b = V x,  h = act(a) ⊙ b,  L = Σ g ⊙ h

with act = silu (SwiGLU: silu(a) = a σ(a)) or gelu (GeGLU: gelu(a) = a Φ(a)), and g the
gradient arriving from above. Asks ∂L/∂W[i, j], ∂L/∂V[i, j] or ∂L/∂x[j]. The lessons:
the product rule inside act′ (silu′(a) = σ(a)(1 + a(1 − σ(a))), not σ(a)), the gate's
value b scaling act′, and x reaching L along two paths, through W and through V.

By hand the question lists σ(aᵢ), or Φ(aᵢ) and φ(aᵢ), for each pre-activation.
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
    draw_all,
    extras_wanted,
    fmt_array,
    format_index,
    guided_steps,
    input_lines,
    json_inputs,
    named_nodes,
    pick,
    random_index,
    slips_apart,
    tabulate,
    useful_values,
    worked_solution,
)
from drill.exercises.screening import resample_keeping

ACTIVATIONS = ("silu", "gelu")
WRT = ("W", "V", "x")
HAND_LIMIT = 3.0  # by hand, |a| ≤ 3 keeps σ, Φ and φ in a readable range

PARAMS: dict[str, tuple[Any, ...]] = {"activation": ACTIVATIONS, "wrt": WRT}

UNIT = {"silu": "SwiGLU", "gelu": "GeGLU"}
DEFINITION = {
    "silu": "silu(a) = a·σ(a), with σ(a) = 1 / (1 + e^(−a)) (also called swish)",
    "gelu": "gelu(a) = a·Φ(a), with Φ the standard normal CDF (the exact GELU)",
}
DERIVATIVE = {
    "silu": "σ(a)(1 + a(1 − σ(a)))",
    "gelu": "Φ(a) + a·φ(a), with φ(a) = e^(−a²/2) / √(2π)",
}
HALF_DERIVATIVE = {"silu": "σ(a) alone: the a σ′(a) term forgotten", "gelu": None}


@dataclass(frozen=True)
class Setup:
    activation: str
    d_in: int
    d_hidden: int
    wrt: str
    index: tuple[int, ...]


def _choose_setup(rng: np.random.Generator, difficulty: Difficulty, params: dict) -> Setup:
    hand = difficulty is Difficulty.HAND
    activation = choose(rng, params, "activation", ACTIVATIONS)
    d_in, d_hidden = (2, 2) if hand else (pick(rng, (2, 3)), pick(rng, (2, 3)))
    wrt = choose(rng, params, "wrt", WRT)
    shape = (d_in,) if wrt == "x" else (d_hidden, d_in)
    return Setup(activation, d_in, d_hidden, wrt, random_index(rng, shape))


def _draw_inputs(rng: np.random.Generator, difficulty: Difficulty, setup: Setup) -> dict:
    H, D = setup.d_hidden, setup.d_in
    wanted = (
        ("x", (D,), -2.0, 2.0, True),
        ("W", (H, D), -1.0, 1.0, False),
        ("V", (H, D), -1.0, 1.0, False),
        ("g", (H,), -2.0, 2.0, True),
    )
    return draw_all(rng, difficulty, wanted)


def _act(name: str):
    return engine.silu if name == "silu" else engine.gelu


def _build(inputs: dict[str, Any], setup: Setup, local: Any = None) -> Tensor:
    """The loss node, named for the trace. `local`, when given, replaces act′(a) in the
    backward pass (a slip's wrong derivative), keeping act(a) in the forward pass."""
    x, W, V, g = (Tensor(inputs[name], name=name) for name in ("x", "W", "V", "g"))
    f = setup.activation
    x.backward_note = "Wᵀ ∂L/∂a + Vᵀ ∂L/∂b"
    W.backward_note = "∂L/∂a xᵀ"
    V.backward_note = "∂L/∂b xᵀ"
    a = (W @ x).named("a", forward="W x", backward=f"∂L/∂u ⊙ {f}′(a)")
    b = (V @ x).named("b", forward="V x", backward="g ⊙ u")
    u = _act(f)(a) if local is None else _with_derivative(a, _act(f)(a).value, local)
    u.named("u", forward=f"{f}(a)", backward="g ⊙ b")
    h = (u * b).named("h", forward="u ⊙ b", backward="g")
    return (g * h).sum().named("L", forward="Σ g ⊙ h")


def _with_derivative(a: Tensor, value: np.ndarray, derivative: np.ndarray) -> Tensor:
    """A node with act(a)'s value but the given local derivative (for a slip)."""

    def backward(grad: np.ndarray) -> None:
        a.grad += grad * derivative

    return engine.make_node(value, (a,), "slip", backward)


def _answer(inputs: dict[str, Any], setup: Setup, **variant: Any) -> tuple[Tensor, float]:
    loss = _build(inputs, setup, **variant)
    return loss, asked_gradient(loss, setup.wrt, setup.index)


def _pre_activations(inputs: dict[str, Any]) -> np.ndarray:
    return np.asarray(inputs["W"]) @ np.asarray(inputs["x"])


def _loss_value(inputs: dict[str, Any], setup: Setup) -> float:
    """L in plain NumPy, without a graph, for the central-difference check."""
    a = _pre_activations(inputs)
    u = a / (1.0 + np.exp(-a)) if setup.activation == "silu" else a * engine.normal_cdf(a)
    return float((inputs["g"] * u * (inputs["V"] @ inputs["x"])).sum())


def _hand_values(inputs: dict[str, Any], setup: Setup) -> list[tuple[str, float]]:
    a = _pre_activations(inputs)
    if setup.activation == "silu":
        return tabulate("σ({})", lambda v: engine.sigmoid(v).item(), a)
    return [
        *tabulate("Φ({})", lambda v: float(engine.normal_cdf(v)), a),
        *tabulate("φ({})", lambda v: float(engine.normal_pdf(v)), a),
    ]


def _slips(inputs: dict[str, Any], loss: Tensor, setup: Setup, answer: float) -> dict[str, float]:
    """Likely wrong answers; `loss` is the answer's graph after its backward pass, which
    one of them changes (read the solution off it first)."""
    slips = {"sign flipped": -answer}
    a = _pre_activations(inputs)
    if setup.wrt in ("W", "x"):
        if setup.activation == "silu":
            sigma = engine.sigmoid(a).value
            slips["silu′(a) taken as σ(a): the a·σ′(a) term forgotten"] = _answer(
                inputs, setup, local=sigma
            )[1]
        else:
            slips["gelu′(a) taken as Φ(a): the a·φ(a) term forgotten"] = _answer(
                inputs, setup, local=engine.normal_cdf(a)
            )[1]
        slips[f"{setup.activation}′(a) left out (taken as 1)"] = _answer(
            inputs, setup, local=np.ones_like(a)
        )[1]
    if setup.wrt == "x":
        nodes = named_nodes(loss)
        (j,) = setup.index
        through_w = float((nodes["W"].value.T @ nodes["a"].grad)[j])
        through_v = float((nodes["V"].value.T @ nodes["b"].grad)[j])
        slips["only the path through W (the one through V forgotten)"] = through_w
        slips["only the path through V (the one through W forgotten)"] = through_v
    if setup.wrt == "W":
        # the gate's value b left out: ∂L/∂a = g ⊙ act′(a), as if h were act(a) alone
        nodes = named_nodes(loss)
        nodes["u"].backward(seed=nodes["g"].value)
        slips["the gate b left out of ∂L/∂u (g ⊙ b needed)"] = float(nodes["W"].grad[setup.index])
    return slips_apart(slips, answer)


def _question(setup: Setup, inputs: dict[str, Any], hint: str) -> str:
    f = setup.activation
    lines = [
        f"The gated unit of a {UNIT[f]} feed-forward layer; vectors are columns:",
        "  a = W x   (the gate projection)",
        "  b = V x   (the up projection)",
        f"  u = {f}(a), elementwise, where {DEFINITION[f]}",
        "  h = u ⊙ b",
        "  L = Σᵢ gᵢ hᵢ, so g = ∂L/∂h is the gradient arriving from above",
        "Inputs:",
        *input_lines(inputs),
        *([hint] if hint else []),
        f"Compute ∂L/∂{setup.wrt}{format_index(setup.index)} {INDEX_NOTE}.",
    ]
    return "\n".join(lines)


def generate(rng: np.random.Generator, difficulty: Difficulty, **params: Any) -> Exercise:
    setup = _choose_setup(rng, difficulty, params)
    hand = difficulty is Difficulty.HAND

    def judge(inputs: dict) -> tuple[bool, tuple[Tensor, float] | None]:
        if hand and (np.abs(_pre_activations(inputs)) > HAND_LIMIT).any():
            return False, None
        loss, answer = _answer(inputs, setup)
        return abs(answer) >= SMALLEST_ANSWER, (loss, answer)

    inputs, built = resample_keeping(rng, lambda r: _draw_inputs(r, difficulty, setup), judge)
    loss, answer = built
    check_derivative(lambda v: _loss_value(v, setup), inputs, setup.wrt, setup.index, answer)
    f = setup.activation
    local = Tensor(named_nodes(loss)["a"].value)
    _act(f)(local).backward(seed=np.ones_like(local.value))
    notes = {"a": f"where {f}′(a) = {DERIVATIVE[f]}, so {f}′(a) = {fmt_array(local.grad)}"}
    hint = useful_values(_hand_values(inputs, setup)) if hand else ""
    solution = worked_solution(loss, setup.wrt, setup.index, answer, notes)
    steps = guided_steps(loss, setup.wrt, setup.index, answer, skip={"h"})
    return Exercise(
        generator="gated-activation-derivative",
        seed=0,
        difficulty=difficulty,
        question=_question(setup, inputs, hint),
        spec={
            "activation": f,
            "unit": UNIT[f],
            "convention": f"h = {f}(W x) ⊙ (V x)",
            "loss": "L = Σ g ⊙ h",
        },
        inputs=json_inputs(inputs),
        asked=asked_derivative(setup.wrt, setup.index),
        answer=answer,
        solution=solution,
        slips=_slips(inputs, loss, setup, answer) if extras_wanted() else {},
        steps=steps,
    )
